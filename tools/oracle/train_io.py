"""JSON tensor codec shared by the train_*.py oracles: {"shape": [...], "data": [...]} with
non-finite values spelled "inf", "-inf", "nan" (JSON has no such numbers)."""
import json
import math
import sys

import torch


def tensor(obj, dtype=torch.float64):
    data = [float(v) if isinstance(v, str) else v for v in obj["data"]]
    return torch.tensor(data, dtype=dtype).reshape(obj["shape"])


def encode(t):
    t = t.detach().to(torch.float64).contiguous()
    data = []
    for v in t.flatten().tolist():
        data.append(v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")))
    return {"shape": list(t.shape), "data": data}


def run(fn):
    """Reads the request from argv[1] (or stdin), writes fn(request) as JSON to stdout."""
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    json.dump(fn(json.load(src)), sys.stdout)
