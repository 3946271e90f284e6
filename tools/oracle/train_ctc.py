#!/usr/bin/python3
"""Oracle for w2v's CTC criterion: torch.nn.functional.ctc_loss on log_softmax of [T, B, V]
logits (blank 0, reduction sum), targets with <pad>=1 and </s>=2 removed, input lengths from
the frame padding mask. Returns the loss, per-utterance losses (inf = impossible alignment
before zero_infinity) and the gradient wrt the logits (fp64)."""
import torch
import torch.nn.functional as F

from train_io import encode, run, tensor


def criterion(req):
    logits = tensor(req["logits"]).requires_grad_()
    T, B, _ = logits.shape
    target = tensor(req["target"], torch.long)
    pad = tensor(req["padding_mask"], torch.bool) if "padding_mask" in req else None
    input_lengths = (~pad).long().sum(-1) if pad is not None else torch.full((B,), T, dtype=torch.long)
    keep = (target != 1) & (target != 2)
    flat = target[keep]
    target_lengths = keep.long().sum(-1)
    lprobs = F.log_softmax(logits, dim=-1)
    per_utt = F.ctc_loss(lprobs, flat, input_lengths, target_lengths, blank=0, reduction="none",
                         zero_infinity=False)
    loss = F.ctc_loss(lprobs, flat, input_lengths, target_lengths, blank=0, reduction="sum",
                      zero_infinity=req["zero_infinity"])
    out = {"loss": encode(loss.detach()), "per_utterance": encode(per_utt.detach())}
    if torch.isfinite(loss):
        loss.backward()
        out["grad_logits"] = encode(logits.grad)
    return out


run(criterion)
