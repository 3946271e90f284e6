#!/usr/bin/python3
"""torchaudio 0.13 side of bench_model: same weights/input (IN.pt from bench_model), prints
'seconds X' = median forward time of `repeats` after one warm-up."""
import sys
import time

import torch
from torchaudio.models import wav2vec2_base, wav2vec2_large_lv60k
from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict

d = torch.load(sys.argv[1])
torch.set_num_threads(int(d["threads"]))
build = wav2vec2_base if d["preset"] == "base" else wav2vec2_large_lv60k
model = build(aux_num_out=32)
state = {k[len("w2v_encoder."):]: v for k, v in d["state"].items()}
model.load_state_dict(_convert_state_dict(state))
model.eval()
x = d["source"]
times = []
with torch.inference_mode():
    model(x)
    for _ in range(int(d["repeats"])):
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
print(f"seconds {sorted(times)[len(times) // 2]}")
