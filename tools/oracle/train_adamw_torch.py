#!/usr/bin/python3
"""Oracle: torch.optim.AdamW itself (torch 1.13) over steps in which some parameters have no
gradient (p.grad None after zero_grad(set_to_none=True), as fairseq's optimizer.zero_grad leaves
them): AdamW skips such a parameter, its weights, moments and step count. With eps 0 AdamW's
update is fairseq's Adam's (spec 7.1): lr / (1-b1^t) m / (sqrt(v) / sqrt(1-b2^t)) is
lr sqrt(1-b2^t) / (1-b1^t) m / sqrt(v), and p *= 1 - lr wd is p -= lr wd p.

Input: params; grads, per step a list with one entry per parameter (null: no gradient); lrs;
betas; weight_decay. Output: steps, per step the params (fp32) and per parameter its state (null
before its first gradient, else {step, exp_avg, exp_avg_sq})."""
import torch

from train_io import encode, run, tensor


def adamw(req):
    params = [tensor(p, torch.float32).requires_grad_() for p in req["params"]]
    opt = torch.optim.AdamW(params, lr=0.0, betas=tuple(req["betas"]), eps=0.0, weight_decay=req["weight_decay"])
    steps = []
    for grads, lr in zip(req["grads"], req["lrs"]):
        opt.zero_grad(set_to_none=True)
        for p, g in zip(params, grads):
            if g is not None:
                p.grad = tensor(g, torch.float32)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        state = []
        for p in params:
            s = opt.state.get(p)
            state.append({"step": int(s["step"]), "exp_avg": encode(s["exp_avg"]),
                          "exp_avg_sq": encode(s["exp_avg_sq"])} if s else None)
        steps.append({"params": [encode(p) for p in params], "state": state})
    return {"steps": steps}


run(adamw)
