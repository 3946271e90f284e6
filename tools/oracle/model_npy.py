#!/usr/bin/python3
"""Reads .npy files with numpy (the reference reader) and re-saves them for a C++ test.

Usage: model_npy.py OUT.pt A.npy [B.npy ...]  ->  OUT.pt = {basename: tensor, ..., "dtypes": "basename=dtype,..."}
"""
import os
import sys

import numpy as np
import torch

out = {}
dtypes = []
for path in sys.argv[2:]:
    a = np.load(path, allow_pickle=False)
    name = os.path.basename(path)
    out[name] = torch.from_numpy(np.ascontiguousarray(a))
    dtypes.append(f"{name}={a.dtype}")
out["dtypes"] = ",".join(dtypes)  # a string: LibTorch cannot unpickle one-item lists either
out["count"] = len(sys.argv) - 2  # keeps the dict above one item (LibTorch's unpickler lacks SETITEM)
torch.save(out, sys.argv[1])
