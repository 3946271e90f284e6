#!/usr/bin/python3
"""Oracle for w2v's compute_mask_indices, written from the spec (2.2): replays the random draws
the C++ side recorded (uniforms, span lengths, choices without replacement) through the
fairseq algorithm (overlap allowed) and returns the masked indices of every row. The request
is a list of cases; the answer a list of {"rows": ...}."""
import numpy as np

from train_io import run


def masks(req):
    uniforms = iter(req["uniform"])
    choices = iter(req["choose"])
    belows = iter(req["below"])
    p, l, min_masks = req["prob"], req["length"], req["min_masks"]
    rows = []
    for sz in req["valid_lengths"]:
        num_mask = int(p * sz / float(l) + next(uniforms))
        num_mask = max(min_masks, num_mask)
        if req["selection"] == "static":
            lengths = np.full(num_mask, l)
        else:  # uniform in [mask_other, 2l]
            lengths = np.array([int(req["other"]) + next(belows) for _ in range(num_mask)])
        if sum(lengths) == 0:
            lengths[0] = min(l, sz - 1)
        min_len = min(lengths)
        if sz - min_len <= num_mask:
            min_len = sz - num_mask - 1
        starts = np.array(next(choices))
        assert len(starts) == num_mask and len(set(starts.tolist())) == num_mask
        assert all(0 <= s < sz - min_len for s in starts)
        idc = np.asarray([starts[j] + off for j in range(len(starts)) for off in range(lengths[j])])
        rows.append(np.unique(idc[idc < sz]))
    min_len = min(len(r) for r in rows)
    out = []
    for r in rows:
        if req["require_same_masks"] and len(r) > min_len:
            pick = next(choices)
            assert len(pick) == min_len and len(set(pick)) == min_len
            r = r[np.array(pick, dtype=np.int64)]
        if req["mask_dropout"] > 0:
            holes = int(np.rint(len(r) * req["mask_dropout"]))
            pick = next(choices)
            assert len(pick) == len(r) - holes
            r = r[np.array(pick, dtype=np.int64)]
        out.append(sorted(int(x) for x in r))
    return {"rows": out}


run(lambda cases: [masks(c) for c in cases])
