#!/usr/bin/python3
"""Oracle for one trainer update, written from fairseq's trainer.train_step and the spec (7.1):
the per-batch summed gradients of an accumulation cycle are added, divided by the summed
sample_size, the norm taken, clipped to clip_norm (coef = clip_norm / (norm + 1e-6) when it is
below 1; 0 = no clipping), then one Adam step (t = 1) with decoupled weight decay as in
train_adam.py. Input: params (those with a gradient), per-batch grads and sample sizes, losses,
clip_norm, lr, betas, eps, weight_decay. Output: the params after the step (fp32), the
unclipped norm, whether it was clipped, and the logged loss (bits per sample_size unit)."""
import math

import torch

from train_io import encode, run, tensor


def update(req):
    sample_size = sum(req["sample_sizes"])
    params = [tensor(p, torch.float64) for p in req["params"]]
    grads = [torch.zeros_like(p) for p in params]
    for batch in req["grads"]:
        for i, g in enumerate(batch):
            grads[i] += tensor(g, torch.float64)
    grads = [g / sample_size for g in grads]
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    clipped = False
    if req["clip_norm"] > 0:
        coef = req["clip_norm"] / (norm + 1e-6)
        if coef < 1:
            grads = [g * coef for g in grads]
            clipped = True
    b1, b2 = req["betas"]
    lr, eps, wd = req["lr"], req["eps"], req["weight_decay"]
    out = []
    for p, g in zip(params, grads):
        m = (1 - b1) * g
        v = (1 - b2) * g * g
        p = p - lr * wd * p
        p = p - lr * math.sqrt(1 - b2) / (1 - b1) * m / (v.sqrt() + eps)
        out.append(encode(p.to(torch.float32)))
    loss = sum(req["losses"]) / sample_size / math.log(2)
    return {"params": out, "gnorm": norm, "clipped": clipped, "loss": loss}


run(update)
