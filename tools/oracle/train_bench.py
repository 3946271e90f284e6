#!/usr/bin/python3
"""Reference for the `train` benchmark (scripts/bench.sh train).

  train_bench.py corpus DIR N SECONDS   writes N tone utterances of SECONDS s (train.tsv/.ltr,
                                        valid.tsv/.ltr, dict.ltr.txt) for `w2v train`
  train_bench.py run DIR UPDATES BATCH  CTC fine-tuning steps of the same small wav2vec 2.0
                                        (torchaudio's model, conv stack frozen as with
                                        feature_grad_mult 0, Adam) on BATCH utterances per update;
                                        prints seconds of audio per CPU and per wall second after 2 warm-up updates
"""
import math
import os
import sys
import time

import torch
import torchaudio

LAYERS = [(128, 10, 5)] + [(128, 3, 2)] * 4 + [(128, 2, 2)] * 2
LETTERS = "ABCDEFGH"


def corpus(out, n, seconds):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for split, count in (("train", n), ("valid", max(2, n // 8))):
        tsv, ltr = [os.path.abspath(out)], []
        for i in range(count):
            word = "".join(LETTERS[j] for j in torch.randint(0, len(LETTERS), (int(seconds * 4),), generator=g).tolist())
            per = int(16000 * seconds) // len(word)
            t = torch.arange(per) / 16000.0
            x = torch.cat([0.5 * torch.sin(2 * math.pi * (300 + 150 * LETTERS.index(c)) * t) for c in word])
            name = f"{split}{i}.wav"
            torchaudio.save(os.path.join(out, name), x.unsqueeze(0), 16000, encoding="PCM_S", bits_per_sample=16)
            tsv.append(f"{name}\t{x.numel()}")
            ltr.append(" ".join(word) + " |")
        open(os.path.join(out, split + ".tsv"), "w").write("\n".join(tsv) + "\n")
        open(os.path.join(out, split + ".ltr"), "w").write("\n".join(ltr) + "\n")
    open(os.path.join(out, "dict.ltr.txt"), "w").write("".join(f"{c} 1\n" for c in "|" + LETTERS))


def run(data, updates, batch):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    lines = open(os.path.join(data, "train.tsv")).read().split("\n")[1:batch + 1]
    wavs = [torchaudio.load(os.path.join(data, l.split("\t")[0]))[0][0] for l in lines]
    targets = [torch.tensor([4 + ("|" + LETTERS).index(c) for c in t.split()]) for t in
               open(os.path.join(data, "train.ltr")).read().split("\n")[:batch]]
    source = torch.stack(wavs)
    model = torchaudio.models.wav2vec2_model(
        extractor_mode="layer_norm", extractor_conv_layer_config=LAYERS, extractor_conv_bias=True,
        encoder_embed_dim=144, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=128,
        encoder_pos_conv_groups=16, encoder_num_layers=4, encoder_num_heads=4,
        encoder_attention_dropout=0.0, encoder_ff_interm_features=576, encoder_ff_interm_dropout=0.1,
        encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.1, aux_num_out=13)
    opt = torch.optim.Adam(model.parameters(), lr=3e-5, betas=(0.9, 0.98), eps=1e-8)
    flat = torch.cat(targets)
    lengths = torch.tensor([len(t) for t in targets])
    model.train()
    start = None
    for step in range(updates):
        if step == 2:
            start, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            feats, _ = model.feature_extractor(source, None)
        x = model.encoder(feats, None)
        logits = model.aux(x).transpose(0, 1)
        lp = torch.log_softmax(logits.float(), -1)
        loss = torch.nn.functional.ctc_loss(lp, flat, torch.full((batch,), lp.size(0)), lengths,
                                            reduction="sum", zero_infinity=True)
        opt.zero_grad()
        (loss / batch).backward()
        opt.step()
    dt, dcpu = time.perf_counter() - start, time.process_time() - cpu
    audio = source.numel() / 16000.0 * (updates - 2)
    print(f"reference: {audio / dcpu:.2f} s of audio per CPU second, {audio / dt:.2f} per wall second "
          f"(1 thread, {updates - 2} updates of {batch} x {source.size(1) / 16000:.0f} s)")


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
