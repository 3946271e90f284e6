#!/usr/bin/python3
"""Reference decode rate: torchaudio.load (what the Python oracle uses; fairseq uses soundfile,
which is not packaged here) on the files bench_data generated.
usage: loader_ref.py DIR   (DIR as given to bench_data)"""
import glob
import sys
import time

import torchaudio

for ext in ("wav", "flac"):
    files = sorted(glob.glob(f"{sys.argv[1]}/{ext}/*.{ext}"))
    t0 = time.perf_counter()
    total = 0.0
    for f in files:
        wav, rate = torchaudio.load(f)
        total += wav.shape[1] / rate
    dt = time.perf_counter() - t0
    print(f"data/read_{ext}_torchaudio: {total / dt:.0f} s audio/s ({len(files)} files, {total:.0f} s of audio)")
