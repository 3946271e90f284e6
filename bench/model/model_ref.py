#!/usr/bin/python3
"""References of bench_model on the same weights and input (IN.pt written by bench_model):
torchaudio 0.13 fp32, and ONNX Runtime fp32 on the same torchaudio model exported with
torch.onnx.export (opset 14), run by ort_ref.js through the npm package onnxruntime-node.
Prints one line per engine: 'torchaudio seconds X' and 'onnxruntime seconds X version V
max_abs_diff D' (D: its logits against torchaudio's); seconds = median of `repeats` forwards
after one warm-up."""
import os
import subprocess
import sys
import tempfile
import time

import torch
from torchaudio.models import wav2vec2_base, wav2vec2_large_lv60k
from torchaudio.models.wav2vec2.utils.import_fairseq import _convert_state_dict

d = torch.load(sys.argv[1])
engines = d["engines"].split(",")
threads, repeats = int(d["threads"]), int(d["repeats"])
torch.set_num_threads(threads)
build = wav2vec2_base if d["preset"] == "base" else wav2vec2_large_lv60k
model = build(aux_num_out=32)
state = {k[len("w2v_encoder."):]: v for k, v in d["state"].items()}
model.load_state_dict(_convert_state_dict(state))
model.eval()
x = d["source"]


class Logits(torch.nn.Module):
    """The model without its lengths output, as ONNX export wants one tensor."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, source):
        return self.m(source)[0]


with torch.inference_mode():
    times = []
    logits = model(x)[0]
    for _ in range(repeats if "torchaudio" in engines else 0):
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
    if times:
        print(f"torchaudio seconds {sorted(times)[len(times) // 2]}", flush=True)

if "onnxruntime" in engines:
    with tempfile.TemporaryDirectory(prefix="w2v_bench_ort_") as tmp:
        onnx_path, in_path, out_path = (os.path.join(tmp, n) for n in ("model.onnx", "in.f32", "out.f32"))
        with torch.no_grad():
            torch.onnx.export(Logits(model), (x,), onnx_path, opset_version=14, input_names=["source"],
                              output_names=["logits"])
        x.contiguous().numpy().astype("float32").tofile(in_path)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_ref.js")
        out = subprocess.run(["node", script, d["ort_dir"], onnx_path, in_path, str(x.shape[0]), str(x.shape[1]),
                              str(threads), str(repeats), out_path], check=True, capture_output=True, text=True).stdout
        seconds, version = out.split()[1], out.split()[3]
        import numpy
        ort_logits = torch.from_numpy(numpy.fromfile(out_path, dtype="float32")).reshape(logits.shape)
        diff = (ort_logits - logits).abs().max().item()
        print(f"onnxruntime seconds {seconds} version {version} max_abs_diff {diff}", flush=True)
