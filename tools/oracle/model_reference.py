#!/usr/bin/python3
"""Small Python reference of the wav2vec 2.0 pre-training heads (torchaudio has none), written
from the spec (sections 3 and 4.2): Gumbel vector quantizer, contrastive logits, and the full
pre-training forward on top of torchaudio's feature extractor and transformer.

Usage: model_reference.py IN.pt OUT.pt   with IN["mode"] in {"quantizer", "compute_preds"}.
  quantizer:     x [B, M, C], vars, weight_proj_weight, weight_proj_bias, groups, temp, training,
                 seed (torch.manual_seed before the forward, so Gumbel noise matches a caller
                 that seeds the same global generator), grad_weights [B, M, vq_dim]
                 -> x, targets, code_perplexity, prob_perplexity, grad_x, grad_vars,
                    grad_weight_proj_weight, grad_weight_proj_bias
  compute_preds: x [B, M, F], y [B, M, F], negatives [K, B, M, F], logit_temp -> logits
"""
import sys

import torch
import torch.nn.functional as F


def perplexity(probs):
    return torch.exp(-torch.sum(probs * torch.log(probs + 1e-7), dim=-1)).sum()


def quantize(x, vars_, w, b, groups, temp, training):
    bsz, tsz, fsz = x.shape
    num_vars = vars_.size(1) // groups
    logits = F.linear(x.reshape(-1, fsz), w, b).view(bsz * tsz * groups, -1)
    k = logits.argmax(-1)
    hard = torch.zeros_like(logits).scatter_(-1, k.view(-1, 1), 1.0)
    code_ppl = perplexity(hard.view(bsz * tsz, groups, -1).float().mean(0))
    avg = torch.softmax(logits.view(bsz * tsz, groups, -1).float(), dim=-1).mean(0)
    prob_ppl = perplexity(avg)
    if training:
        sel = F.gumbel_softmax(logits.float(), tau=temp, hard=True).type_as(logits)
    else:
        sel = hard
    targets = sel.argmax(-1).view(bsz, tsz, groups)
    q = (sel.view(bsz * tsz, -1).unsqueeze(-1) * vars_).view(bsz * tsz, groups, num_vars, -1).sum(-2)
    return q.view(bsz, tsz, -1), targets, code_ppl, prob_ppl


def compute_preds(x, y, negatives, logit_temp):
    neg_is_pos = (y == negatives).all(-1)
    targets = torch.cat([y.unsqueeze(0), negatives], dim=0)
    logits = torch.cosine_similarity(x.float(), targets.float(), dim=-1) / logit_temp
    logits = logits.type_as(x)
    logits[1:][neg_is_pos] = float("-inf")
    return logits


def pretrain_forward(model, state, cfg, source, lengths, mask_indices, negative_indices):
    """fairseq Wav2Vec2Model.forward in eval mode, torchaudio modules for the shared parts."""
    with torch.no_grad():
        conv, frame_lengths = model.feature_extractor(source, lengths)  # [B, T, C]
        features_pen = conv.float().pow(2).mean()
        feats = model.encoder.feature_projection.layer_norm(conv)
        unmasked = feats.clone()
        x = model.encoder.feature_projection.projection(feats)
        mask = mask_indices.bool()
        x[mask] = state["mask_emb"]
        B, T, _ = x.shape
        attn = None
        if frame_lengths is not None:
            pad = torch.arange(T)[None, :] >= frame_lengths[:, None]
            x[pad] = 0.0
            attn = (-10000.0 * pad[:, None, None, :].float()).expand(B, 1, T, T)
        x = model.encoder.transformer(x, attention_mask=attn)

        y = unmasked[mask].view(B, -1, unmasked.size(-1))
        res = {}
        if cfg["quantize_targets"]:
            y, _, code_ppl, prob_ppl = quantize(y, state["quantizer.vars"], state["quantizer.weight_proj.weight"],
                                                state["quantizer.weight_proj.bias"], cfg["latent_groups"], 0.0, False)
            res["pt_code_perplexity"] = code_ppl
            res["pt_prob_perplexity"] = prob_ppl
        y = F.linear(y, state["project_q.weight"], state["project_q.bias"])
        M, Fd = y.size(1), y.size(2)
        negs = y.reshape(-1, Fd)[negative_indices.reshape(-1)].view(B, M, -1, Fd).permute(2, 0, 1, 3)
        xm = F.linear(x[mask].view(B, M, -1), state["final_proj.weight"], state["final_proj.bias"])
        res["pt_logits"] = compute_preds(xm, y, negs, cfg["logit_temp"])
        res["pt_features_pen"] = features_pen
        return res


def main(inp, out):
    d = torch.load(inp)
    res = {}
    if d["mode"] == "quantizer":
        x = d["x"].clone().requires_grad_()
        vars_ = d["vars"].clone().requires_grad_()
        w = d["weight_proj_weight"].clone().requires_grad_()
        b = d["weight_proj_bias"].clone().requires_grad_()
        torch.manual_seed(int(d["seed"]))
        q, targets, code_ppl, prob_ppl = quantize(x, vars_, w, b, int(d["groups"]), float(d["temp"]),
                                                  bool(d["training"]))
        ((q * d["grad_weights"]).sum() + prob_ppl).backward()
        res = {"x": q.detach(), "targets": targets, "code_perplexity": code_ppl, "prob_perplexity": prob_ppl.detach(),
               "grad_x": x.grad, "grad_vars": vars_.grad, "grad_weight_proj_weight": w.grad,
               "grad_weight_proj_bias": b.grad}
    elif d["mode"] == "compute_preds":
        res = {"logits": compute_preds(d["x"], d["y"], d["negatives"], float(d["logit_temp"]))}
    else:
        raise SystemExit(f"unknown mode {d['mode']}")
    # LibTorch's unpickler lacks SETITEM, which pickle uses for one-item dicts.
    res["oracle"] = "model_reference"
    torch.save(res, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
