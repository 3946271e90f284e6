#!/usr/bin/python3
"""Oracle for one trainer update, written from fairseq's trainer.train_step, its FairseqAdam
(torch's Adam update with decoupled weight decay) and the spec (7.1): the per-batch summed
gradients of an accumulation cycle (every worker's batches) are added, divided by the summed
sample_size, the norm taken over the parameters that have a gradient, clipped to clip_norm
(coef = clip_norm / (norm + 1e-6) when it is below 1; 0 = no clipping), then one Adam step for
each parameter with a gradient. A parameter without one (fairseq's optimizer sets .grad to None
before each update; a frozen or unused one keeps it None) is skipped with its state: its own
step count t starts at its first gradient. A cycle with a non-finite loss or norm is skipped:
parameters and state stay as they were.

Input: params; grads, per batch a list with one entry per parameter (null: no gradient);
sample_sizes; losses (numbers, or "inf"/"nan"); clip_norm; lr; betas; eps; weight_decay; state
(optional, from an earlier answer: per parameter null or {step, exp_avg, exp_avg_sq}).
Output: params after the update (fp32), state, the unclipped norm, clipped, skipped, and the
logged loss (bits per sample_size unit)."""
import math

import torch

from train_io import encode, run, tensor


def update(req):
    sample_size = sum(req["sample_sizes"])
    params = [tensor(p, torch.float64) for p in req["params"]]
    state = req.get("state") or [None] * len(params)
    losses = [float(x) for x in req["losses"]]
    grads = [None] * len(params)
    for batch in req["grads"]:
        for i, g in enumerate(batch):
            if g is not None:
                grads[i] = tensor(g, torch.float64) + (0 if grads[i] is None else grads[i])
    grads = [None if g is None else g / sample_size for g in grads]
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads if g is not None))
    keep = {"params": [encode(p.to(torch.float32)) for p in params], "state": state, "gnorm": norm,
            "clipped": False, "skipped": True, "loss": None}
    if not all(math.isfinite(x) for x in losses) or not math.isfinite(norm):
        return keep
    clipped = False
    if req["clip_norm"] > 0:
        coef = req["clip_norm"] / (norm + 1e-6)
        if coef < 1:
            grads = [None if g is None else g * coef for g in grads]
            clipped = True
    b1, b2 = req["betas"]
    lr, eps, wd = req["lr"], req["eps"], req["weight_decay"]
    out, new_state = [], []
    for p, g, s in zip(params, grads, state):
        if g is None:
            out.append(encode(p.to(torch.float32)))
            new_state.append(s)
            continue
        t = (s["step"] if s else 0) + 1
        m = tensor(s["exp_avg"], torch.float64) if s else torch.zeros_like(p)
        v = tensor(s["exp_avg_sq"], torch.float64) if s else torch.zeros_like(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * wd * p
        p = p - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (v.sqrt() + eps)
        out.append(encode(p.to(torch.float32)))
        new_state.append({"step": t, "exp_avg": encode(m), "exp_avg_sq": encode(v)})
    loss = sum(losses) / sample_size / math.log(2)
    return {"params": out, "state": new_state, "gnorm": norm, "clipped": clipped, "skipped": False, "loss": loss}


run(update)
