#!/usr/bin/python3
"""Reference n-gram estimator and scorer written from /work/shared/spec/ngram_lm.md.

Deliberately plain (dicts of tuples, no sorting tricks) so that it reads like the spec; the
C++ toolkit (src/lm) is tested against it on random corpora.

  ngram_ref.py build --order N [--prune T ...] [--vocab-limit V] [--discount-fallback [D ...]]
                     [--letters] [--interpolate-unigrams 0|1] CORPUS OUT.arpa
  ngram_ref.py query ARPA < TEXT     one line per sentence "total oov", then the summary
"""
import argparse
import math
import sys

UNK, BOS, EOS = "<unk>", "<s>", "</s>"


def read_corpus(path, letters):
    """Sentences as token lists, and whether each ended with a newline (lmplz: no </s> otherwise)."""
    data = open(path, "rb").read().decode("utf-8", "surrogateescape")
    lines = data.split("\n")
    terminated = [True] * (len(lines) - 1)
    if lines[-1] == "":
        lines.pop()
    else:
        terminated.append(False)
    sentences = []
    for line in lines:
        for d in "\t\r\0":
            line = line.replace(d, " ")
        words = [w for w in line.split(" ") if w]
        if letters:
            words = [t for w in words for t in list(w) + ["|"]]
        sentences.append(words)
    return sentences, terminated


def estimate(sentences, terminated, order, prune, vocab_limit, fallback, interpolate_unigrams):
    # Vocabulary in order of first occurrence after the specials.
    vocab = [UNK, BOS, EOS]
    ids = {w: i for i, w in enumerate(vocab)}
    for s in sentences:
        for w in s:
            if w not in ids:
                ids[w] = len(vocab)
                vocab.append(w)

    # Raw counts of all windows ending on a word or </s> within one padded sentence.
    raw = [dict() for _ in range(order + 1)]
    for s, term in zip(sentences, terminated):
        padded = [BOS] + s + ([EOS] if term else [])
        for end in range(1, len(padded)):
            for n in range(1, order + 1):
                if end - n + 1 < 0:
                    break
                g = tuple(padded[end - n + 1:end + 1])
                raw[n][g] = raw[n].get(g, 0) + 1
    for w in (UNK, BOS, EOS):
        raw[1].setdefault((w,), 0)

    # Adjusted counts.
    adj = [dict() for _ in range(order + 1)]
    for n in range(1, order + 1):
        for g, c in raw[n].items():
            if n == order or g[0] == BOS:
                adj[n][g] = c
            else:
                adj[n][g] = 0
        if n < order:
            for g in raw[n + 1]:  # g[1:] never starts with <s>: one distinct left neighbour each
                adj[n][g[1:]] += 1
    adj[1][(UNK,)] = 0
    adj[1][(BOS,)] = 0

    def suffix_key(g):
        return tuple(ids[w] for w in reversed(g))

    # Pruning on raw counts; vocabulary limit by raw unigram frequency.
    thresholds = [0] * (order + 1)
    for n in range(1, order + 1):
        thresholds[n] = prune[min(n - 1, len(prune) - 1)] if prune else 0
    dropped = set()
    if vocab_limit and vocab_limit < len(vocab) - 3:
        words = sorted(vocab[3:], key=lambda w: (-raw[1][(w,)], ids[w]))
        dropped = set(words[vocab_limit:])
    pruned = [set() for _ in range(order + 1)]
    for n in range(1, order + 1):
        for g, c in raw[n].items():
            if n == 1 and g[0] in (UNK, BOS):
                continue
            if c <= thresholds[n] or any(w in dropped for w in g):
                pruned[n].add(g)

    # Discounts with lmplz's end-of-stream quirk.
    discounts = [None] * (order + 1)
    last_word = vocab[-1]
    for n in range(1, order + 1):
        t = [0] * 5
        greatest = max(raw[n], key=suffix_key)
        quirk = n < order and greatest[-1] == last_word
        for g, a in adj[n].items():
            k = raw[n][g] if quirk and g == greatest else a
            if 1 <= k <= 4:
                t[k] += 1
        fail = any(t[k] == 0 for k in (1, 2, 3))
        if not fail:
            y = t[1] / (t[1] + 2 * t[2])
            d = [0.0] + [k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3)]
            fail = any(d[k] < 0 or d[k] > k for k in (1, 2, 3))
        if fail:
            if fallback is None:
                sys.exit("discount estimation failed for order %d" % n)
            d = [0.0] + [fallback[min(k - 1, len(fallback) - 1)] for k in (1, 2, 3)]
        discounts[n] = d

    def disc(n, a):
        return discounts[n][min(a, 3)]

    # Context statistics (including pruned extensions) -> gamma.
    gamma = [dict() for _ in range(order + 1)]
    for n in range(1, order + 1):
        total, mass = {}, {}
        for g, a in adj[n].items():
            h = g[:-1]
            total[h] = total.get(h, 0) + a
            if g in pruned[n]:
                mass[h] = mass.get(h, 0.0) + a
            elif a > 0:
                mass[h] = mass.get(h, 0.0) + disc(n, a)
        for h in total:
            gamma[n][h] = (mass.get(h, 0.0) / total[h], total[h])

    prob = [dict() for _ in range(order + 1)]
    g0, total0 = gamma[1][()]
    survivors = sum(1 for g in raw[1] if g not in pruned[1])
    uniform = g0 / (survivors - 1) if interpolate_unigrams else 0.0
    for g, a in adj[1].items():
        if g[0] == BOS:
            prob[1][g] = 1.0
        elif g[0] == UNK:
            prob[1][g] = uniform if interpolate_unigrams else g0
        else:
            prob[1][g] = (a - disc(1, a)) / total0 + uniform
    for n in range(2, order + 1):
        for g, a in adj[n].items():
            gam, tot = gamma[n][g[:-1]]
            prob[n][g] = (a - disc(n, a)) / tot + gam * prob[n - 1][g[1:]]

    out = []
    for n in range(1, order + 1):
        rows = []
        for g in sorted(raw[n], key=suffix_key):
            if g in pruned[n]:
                continue
            p = prob[n][g]
            lp = min(0.0, math.log10(p)) if p > 0 else float("-inf")
            bo = 0.0
            if n < order and g in gamma[n + 1]:
                bo = math.log10(gamma[n + 1][g][0])
            rows.append((g, lp, bo))
        out.append(rows)
    return out


def write_arpa(path, sections):
    order = len(sections)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\\data\\\n")
        for n, rows in enumerate(sections, 1):
            f.write("ngram %d=%d\n" % (n, len(rows)))
        for n, rows in enumerate(sections, 1):
            f.write("\n\\%d-grams:\n" % n)
            for g, lp, bo in rows:
                f.write("%.9g\t%s" % (lp, " ".join(g)))
                f.write("\t%.9g\n" % bo if n < order else "\n")
        f.write("\n\\end\\\n")


def read_arpa(path):
    lm, order, section = {}, 0, 0
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.strip()
        if line.startswith("ngram "):
            order = max(order, int(line[6:].split("=")[0]))
        elif line.startswith("\\") and line.endswith("-grams:"):
            section = int(line[1:-7])
        elif line and section and not line.startswith("\\"):
            f = line.split()
            g = tuple(f[1:1 + section])
            bo = float(f[1 + section]) if len(f) > 1 + section else 0.0
            lm[g] = (float(f[0]), bo)
    return lm, order


def query(arpa):
    """KenLM query's numbers with the full-history ARPA backoff formula (spec section 8)."""
    lm, order = read_arpa(arpa)
    total = oov_total = 0.0
    tokens = oovs = 0
    for line in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\n")[:-1]:
        for d in "\t\v\f\r":
            line = line.replace(d, " ")
        words = [w for w in line.split(" ") if w] + [EOS]
        history = [BOS]
        line_total, line_oov = 0.0, 0
        for w in words:
            key = w if (w,) in lm and w != UNK else UNK
            h = history[-(order - 1):] if order > 1 else []
            k = max(j for j in range(len(h) + 1) if tuple(h[len(h) - j:]) + (key,) in lm)
            score = lm[tuple(h[len(h) - k:]) + (key,)][0]
            for j in range(k + 1, len(h) + 1):
                score += lm.get(tuple(h[len(h) - j:]), (0.0, 0.0))[1]
            if key == UNK:
                line_oov += 1
                oov_total += score
            line_total += score
            history.append(key)
        total += line_total
        oovs += line_oov
        tokens += len(words)
        print("%.9g %d" % (line_total, line_oov))
    print("ppl %.9g %.9g %d %d" % (10 ** (-total / tokens), 10 ** (-(total - oov_total) / (tokens - oovs)), oovs, tokens))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--order", type=int, required=True)
    b.add_argument("--prune", type=int, nargs="*", default=[])
    b.add_argument("--vocab-limit", type=int, default=0)
    b.add_argument("--discount-fallback", type=float, nargs="*", default=None)
    b.add_argument("--letters", action="store_true")
    b.add_argument("--interpolate-unigrams", type=int, default=1)
    b.add_argument("corpus")
    b.add_argument("out")
    q = sub.add_parser("query")
    q.add_argument("arpa")
    a = ap.parse_args()
    if a.cmd == "build":
        fallback = a.discount_fallback
        if fallback is not None and not fallback:
            fallback = [0.5, 1.0, 1.5]
        sentences, terminated = read_corpus(a.corpus, a.letters)
        write_arpa(a.out, estimate(sentences, terminated, a.order, a.prune, a.vocab_limit, fallback,
                                    bool(a.interpolate_unigrams)))
    else:
        query(a.arpa)


if __name__ == "__main__":
    main()
