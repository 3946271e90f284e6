#!/usr/bin/python3
"""Oracle for w2v's CTC forced alignment (src/align/ctc_viterbi.h), written from the CTC
definition (Graves et al. 2006) rather than from the C++ code.

Input (stdin): JSON {"cases": [{"emissions": [[V floats] x T], "labels": [L ints], "blank": int}]};
a case may give "emissions_npy": PATH (a [T, V] .npy file) instead of "emissions".
Output (stdout): JSON list of {"states": [T ints], "score": float} per case: the best path over
the extended sequence z = (blank, y1, blank, y2, ..., yL, blank), states indexing z, under
CTC's rules - a path starts at z[0] or z[1], ends at z[-1] or z[-2], and from z[s] moves to
z[s], z[s+1] or, when z[s+2] is a label different from z[s], to z[s+2] - scored with
log_softmax(emissions) in float64. Ties: staying beats moving by one beats skipping; at the
end the final blank beats the last label. Small cases are also solved by enumerating every
path, and the dynamic programme must reach the same best score (exit 1 otherwise).
"""
import itertools
import json
import sys

import numpy as np


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def allowed(z, s_from, s_to):
    if s_to == s_from or s_to == s_from + 1:
        return True
    return s_to == s_from + 2 and z[s_to] != blank_of(z) and z[s_to] != z[s_from]


def blank_of(z):
    return z[0]


def viterbi(lp, labels, blank):
    T = lp.shape[0]
    z = [blank]
    for y in labels:
        z += [y, blank]
    S = len(z)
    score = np.full((T, S), -np.inf)
    back = np.zeros((T, S), dtype=np.int64)
    score[0, 0] = lp[0, z[0]]
    if S > 1:
        score[0, 1] = lp[0, z[1]]
    for t in range(1, T):
        for s in range(S):
            cands = [(score[t - 1, s], s)]
            if s >= 1:
                cands.append((score[t - 1, s - 1], s - 1))
            if s >= 2 and z[s] != blank and z[s] != z[s - 2]:
                cands.append((score[t - 1, s - 2], s - 2))
            best, arg = cands[0]
            for c, a in cands[1:]:
                if c > best:
                    best, arg = c, a
            if best > -np.inf:
                score[t, s] = best + lp[t, z[s]]
                back[t, s] = arg
    end = S - 1 if score[T - 1, S - 1] >= score[T - 1, S - 2] else S - 2
    states = [end]
    for t in range(T - 1, 0, -1):
        states.append(int(back[t, states[-1]]))
    states.reverse()
    return states, float(score[T - 1, end]), z


def brute_force(lp, z):
    T, S = lp.shape[0], len(z)
    best = -np.inf
    for path in itertools.product(range(S), repeat=T):
        if path[0] > 1 or path[-1] < S - 2:
            continue
        if all(allowed(z, a, b) for a, b in zip(path, path[1:])):
            best = max(best, sum(lp[t, z[s]] for t, s in enumerate(path)))
    return best


def main():
    req = json.load(sys.stdin)
    out = []
    for case in req["cases"]:
        em = np.load(case["emissions_npy"]) if "emissions_npy" in case else case["emissions"]
        lp = log_softmax(em)
        states, score, z = viterbi(lp, case["labels"], case["blank"])
        if len(z) ** lp.shape[0] <= 200000:
            bf = brute_force(lp, z)
            if abs(bf - score) > 1e-9:
                sys.exit(f"oracle self-check failed: dynamic programme {score}, enumeration {bf}")
        out.append({"states": states, "score": score})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
