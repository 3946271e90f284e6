#!/usr/bin/python3
"""Oracle for w2v's Adam, written from the spec (7.1): per step t (1-based)
m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr wd p; p -= lr sqrt(1-b2^t)/(1-b1^t) m/(sqrt(v)+eps).
Input: initial params, a list of per-step gradient lists and learning rates. Output: params
after every step (fp32, as the C++ side computes)."""
import math

import torch

from train_io import encode, run, tensor


def adam(req):
    params = [tensor(p, torch.float32) for p in req["params"]]
    b1, b2 = req["betas"]
    eps, wd = req["eps"], req["weight_decay"]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    history = []
    for t, (grads, lr) in enumerate(zip(req["grads"], req["lrs"]), start=1):
        for i, p in enumerate(params):
            g = tensor(grads[i], torch.float32)
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            step = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            p -= lr * wd * p
            p -= step * m[i] / (v[i].sqrt() + eps)
        history.append([encode(p) for p in params])
    return {"params": history}


run(adam)
