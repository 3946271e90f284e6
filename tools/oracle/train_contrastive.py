#!/usr/bin/python3
"""Oracle for w2v's contrastive criterion, written from the spec (sections 3.4, 4.3): infonce
cross-entropy summed over time-major rows of [1+K, B, M] logits, diversity loss
(num_vars - prob_perplexity) / num_vars and feature penalty, each weighted and scaled by
sample_size = B * M (fairseq's wav2vec_criterion.py: a single weight weighs both; loss_<i>
keys); fairseq's accuracy counts. Returns values and gradients (fp64). The request is a list of cases."""
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
    out = {"sample_size": sample_size}
    # fairseq's wav2vec criterion: one weight applies to every extra loss; the logged losses are
    # the contrastive loss and each weighted extra loss with a non-zero weight, as loss_0, loss_1,
    # ... when there are two or more.
    if len(weights) == 1:
        weights = weights * 2
    losses = [ce.item()]
    extras = [(num_vars - pp) / num_vars, pen]
    for p, coef in zip(extras, weights):
        if coef != 0:
            term = coef * p * sample_size
            loss = loss + term
            losses.append(term.item())
    if len(losses) > 1:
        for i, value in enumerate(losses):
            out[f"loss_{i}"] = value
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
