#!/usr/bin/python3
"""WER and UER of a test-split decoding per voice group: the voices heard in training ("seen")
and the test-only ones ("unseen", corpus/voices.txt), from `w2v infer --results-path` files.
  recipes/synth/per_voice.py CORPUS DECODE_DIR [DECODE_DIR...]
CORPUS holds test.tsv, utterances.tsv and voices.txt (make_corpus.sh); each DECODE_DIR holds
{ref,hypo}.{word,units}-*-test.txt. Prints one line per directory. Stdlib only."""
import glob
import os
import re
import sys


def edits(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diag, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (x != y))
    return row[len(b)]


def lines(path):
    """Line index (None-i) -> tokens."""
    out = {}
    for line in open(path):
        m = re.match(r"(.*?) ?\(None-(\d+)\)$", line.rstrip("\n"))
        if not m:
            sys.exit(f"{path}: unexpected line '{line.strip()}' (expected 'text (None-N)')")
        out[int(m.group(2))] = m.group(1).split()
    return out


def one(pattern):
    found = glob.glob(pattern)
    if len(found) != 1:
        sys.exit(f"per_voice: expected one file {pattern}, found {len(found)}")
    return found[0]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus = sys.argv[1]
    held = {l.split("\t")[0] for l in open(os.path.join(corpus, "voices.txt")) if "test-only" in l}
    voice = {}
    for line in list(open(os.path.join(corpus, "utterances.tsv")))[1:]:
        f = line.rstrip("\n").split("\t")
        voice[f[0]] = f[2]
    ids = [os.path.basename(l.split("\t")[0]).rsplit(".", 1)[0] for l in list(open(os.path.join(corpus, "test.tsv")))[1:]]
    for d in sys.argv[2:]:
        groups = {}
        for unit in ("word", "units"):
            ref, hyp = lines(one(f"{d}/ref.{unit}-*-test.txt")), lines(one(f"{d}/hypo.{unit}-*-test.txt"))
            for i, r in ref.items():
                g = groups.setdefault("unseen" if voice[ids[i]] in held else "seen", {})
                e = g.setdefault(unit, [0, 0, 0])
                e[0] += edits(r, hyp.get(i, []))
                e[1] += len(r)
                e[2] += 1
        print(f"{d}: " + "; ".join(f"{name} ({g['word'][2]} utts) WER {100 * g['word'][0] / g['word'][1]:.2f} %, "
                                   f"UER {100 * g['units'][0] / g['units'][1]:.2f} %" for name, g in sorted(groups.items())))


if __name__ == "__main__":
    main()
