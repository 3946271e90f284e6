#!/usr/bin/python3
"""PyTorch reference for the BASE pre-training benchmark (bench/train/pretrain_base.sh).

  pretrain_ref.py corpus DIR SECONDS          one SECONDS-long utterance (train.tsv, valid.tsv)
  pretrain_ref.py run DIR UPDATES THREADS     UPDATES + 1 pre-training updates of wav2vec 2.0 BASE
                                              on it; prints seconds of audio per CPU and per wall
                                              second over the last UPDATES (the first warms up)

The model and loss are the ones configs/pretraining/wav2vec2_base_librispeech.yaml trains:
torchaudio's BASE feature extractor and transformer (dropouts 0.1, layerdrop 0.05), fairseq's
heads from tools/oracle/model_reference.py (Gumbel quantizer 2 x 320, project_q, final_proj),
feature_grad_mult 0.1, time masks (p 0.65, length 10), 100 in-utterance negatives, InfoNCE +
0.1 diversity + 10 feature penalty, gradients divided by sample_size, AdamW (decoupled weight
decay 0.01, as fairseq's Adam).
"""
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchaudio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "oracle"))
import model_reference  # noqa: E402

GROUPS, VARS, FINAL_DIM, EMBED, CONV_DIM = 2, 320, 256, 768, 512
MASK_PROB, MASK_LEN, NEGATIVES = 0.65, 10, 100


def corpus(out, seconds):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    n = int(16000 * seconds)
    t = torch.arange(n) / 16000.0
    x = 0.3 * torch.sin(2 * math.pi * (200 + 100 * torch.sin(2 * math.pi * 0.5 * t)) * t) + 0.05 * torch.randn(n, generator=g)
    torchaudio.save(os.path.join(out, "utt.wav"), x.unsqueeze(0), 16000, encoding="PCM_S", bits_per_sample=16)
    for split in ("train", "valid"):
        open(os.path.join(out, split + ".tsv"), "w").write(f"{os.path.abspath(out)}\nutt.wav\t{n}\n")


class GradMultiply(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def time_mask(T):
    # Spans of MASK_LEN from random starts (spec 2.3), at least 2.
    num = max(2, int(MASK_PROB * T / MASK_LEN + torch.rand(1).item()))
    starts = torch.randperm(T - MASK_LEN)[:num]
    mask = torch.zeros(T, dtype=torch.bool)
    for s in starts.tolist():
        mask[s:s + MASK_LEN] = True
    return mask.unsqueeze(0)


def run(data, updates, threads):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    source = torchaudio.load(os.path.join(data, "utt.wav"))[0]
    seconds = source.size(1) / 16000.0
    model = torchaudio.models.wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=None, extractor_conv_bias=False,
        encoder_embed_dim=EMBED, encoder_projection_dropout=0.1, encoder_pos_conv_kernel=128,
        encoder_pos_conv_groups=16, encoder_num_layers=12, encoder_num_heads=12, encoder_attention_dropout=0.1,
        encoder_ff_interm_features=3072, encoder_ff_interm_dropout=0.0, encoder_dropout=0.1,
        encoder_layer_norm_first=False, encoder_layer_drop=0.05, aux_num_out=None)
    heads = torch.nn.ParameterDict({
        "mask_emb": torch.nn.Parameter(torch.rand(EMBED)),
        "vars": torch.nn.Parameter(torch.rand(1, GROUPS * VARS, FINAL_DIM // GROUPS)),
    })
    weight_proj = torch.nn.Linear(CONV_DIM, GROUPS * VARS)
    project_q = torch.nn.Linear(FINAL_DIM, FINAL_DIM)
    final_proj = torch.nn.Linear(EMBED, FINAL_DIM)
    modules = [model, heads, weight_proj, project_q, final_proj]
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=5e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    for m in modules:
        m.train()
    print(f"reference: {sum(p.numel() for p in params) / 1e6:.1f} M parameters, {seconds:.1f} s of audio per update, "
          f"{threads} threads", flush=True)

    cpu = wall = 0.0
    for step in range(updates + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        opt.zero_grad()
        conv, _ = model.feature_extractor(source, None)  # [1, T, 512]
        conv = GradMultiply.apply(conv, 0.1)
        pen = conv.float().pow(2).mean()
        fp = model.encoder.feature_projection
        feats = fp.layer_norm(conv)
        unmasked = F.dropout(feats, 0.1, True)
        x = fp.dropout(fp.projection(feats))
        T = x.size(1)
        mask = time_mask(T)
        x = torch.where(mask.unsqueeze(-1), heads["mask_emb"].expand_as(x), x)
        x = model.encoder.transformer(x)
        M = int(mask.sum())
        y = unmasked[mask].view(1, M, CONV_DIM)
        temp = max(2.0 * 0.999995 ** step, 0.5)
        q, _, _, prob_ppl = model_reference.quantize(y, heads["vars"], weight_proj.weight, weight_proj.bias, GROUPS,
                                                     temp, True)
        y = project_q(q)
        idx = torch.randint(0, M - 1, (M, NEGATIVES))
        idx[idx >= torch.arange(M).unsqueeze(1)] += 1  # never the frame itself
        negs = y[0][idx.reshape(-1)].view(1, M, NEGATIVES, -1).permute(2, 0, 1, 3)
        xm = final_proj(x[mask].view(1, M, -1))
        logits = model_reference.compute_preds(xm, y, negs, 0.1)  # [1 + K, 1, M]
        rows = logits.transpose(0, 2).reshape(-1, logits.size(0))
        sample_size = rows.size(0)
        loss = F.cross_entropy(rows, torch.zeros(sample_size, dtype=torch.long), reduction="sum")
        loss = loss + 0.1 * sample_size * (GROUPS * VARS - prob_ppl) / (GROUPS * VARS) + 10 * sample_size * pen
        loss.backward()
        for p in params:
            if p.grad is not None:
                p.grad.div_(sample_size)
        opt.step()
        dc, dw = time.process_time() - c0, time.perf_counter() - w0
        print(f"reference update {step}: loss {loss.item() / sample_size / math.log(2):.3f} bits, "
              f"{dc:.1f} CPU s, {dw:.1f} wall s", flush=True)
        if step > 0:
            cpu += dc
            wall += dw
    print(f"reference: {seconds * updates / cpu:.3f} s of audio per CPU second, {seconds * updates / wall:.3f} "
          f"per wall second ({threads} threads, {updates} updates)")


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2], float(sys.argv[3]))
    elif sys.argv[1] == "run":
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
