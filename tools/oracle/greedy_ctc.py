#!/usr/bin/python3
"""Oracle for w2v's greedy ("viterbi") CTC decoder, as fairseq's infer does it (spec 8.2, 6.3).

Input (stdin): JSON {"symbols": [...], "emissions": [[[...V floats] x T] per utterance]}.
Output (stdout): JSON list of {"text", "score", "tokens"} per utterance, where
tokens = argmax path with repeats collapsed and blanks (index 0) removed, text = the tokens'
symbols joined by spaces, "letter" post-processed, and score = sum of max log-softmax.
"""
import json
import sys

import torch

req = json.load(sys.stdin)
symbols = req["symbols"]
out = []
for em in req["emissions"]:
    e = torch.tensor(em, dtype=torch.float32)
    lp = torch.log_softmax(e.double(), dim=-1)
    path = e.argmax(dim=-1)
    toks = [int(t) for t in torch.unique_consecutive(path) if int(t) != 0]
    # fairseq Dictionary.string drops bos/eos (and pad); letter post-process.
    pieces = " ".join(symbols[t] for t in toks if symbols[t] not in ("<s>", "<pad>", "</s>"))
    text = " ".join(pieces.replace(" ", "").replace("|", " ").split())
    out.append({"text": text, "score": float(lp.max(dim=-1).values.sum()), "tokens": toks})
json.dump(out, sys.stdout)
