#!/usr/bin/python3
"""Oracle for w2v's contrastive criterion, written from the spec (sections 3.4, 4.3): infonce
cross-entropy summed over time-major rows of [1+K, B, M] logits, diversity loss
(num_vars - prob_perplexity) / num_vars and feature penalty, each weighted and scaled by
sample_size = B * M; fairseq's accuracy counts. Returns values and gradients (fp64). The request is a list of cases."""
import torch
import torch.nn.functional as F

from train_io import encode, run, tensor


def criterion(req):
    logits = tensor(req["logits"]).requires_grad_()
    pp = torch.tensor(req["prob_perplexity"], dtype=torch.float64, requires_grad=True)
    pen = torch.tensor(req["features_pen"], dtype=torch.float64, requires_grad=True)
    num_vars = req["num_vars"]
    weights = req["loss_weights"]
    rows = logits.transpose(0, 2).reshape(-1, logits.size(0))
    target = torch.zeros(rows.size(0), dtype=torch.long)
    ce = F.cross_entropy(rows, target, reduction="sum")
    sample_size = rows.size(0)
    loss = ce
    out = {"loss_contrastive": ce.item(), "sample_size": sample_size}
    if len(weights) > 0 and weights[0] != 0:
        term = weights[0] * sample_size * (num_vars - pp) / num_vars
        out["loss_0"] = term.item()
        loss = loss + term
    if len(weights) > 1 and weights[1] != 0:
        term = weights[1] * sample_size * pen
        out["loss_1"] = term.item()
        loss = loss + term
    loss.backward()
    with torch.no_grad():
        mx = rows.argmax(-1) == 0
        mn = rows.argmin(-1) == 0
        out["correct"] = int(mx.sum() - (mx & mn).sum())
        out["count"] = int(mx.numel())
    out["loss"] = loss.item()
    out["grad_logits"] = encode(logits.grad)
    out["grad_prob_perplexity"] = pp.grad.item() if pp.grad is not None else 0.0
    out["grad_features_pen"] = pen.grad.item() if pen.grad is not None else 0.0
    return out


run(lambda cases: [criterion(c) for c in cases])
