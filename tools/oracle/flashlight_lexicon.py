#!/usr/bin/env python3
"""Reference for flashlight-text's LexiconDecoder with criterion CTC (LexiconDecoder.cpp,
Utils.h candidatesAdd/candidatesStore, Trie.cpp MAX smearing), written from its semantics, for
tiny cases: a handful of tokens, words and frames. Used live by tests/decode/test_flashlight_oracle.cpp.

Merge key of two candidates: (LM key, trie node, last token, after-blank). flashlight's KenLM
state is a node of a tree of word histories (LMState::child), compared by identity, so its LM
key is the whole word history ("history"); w2v's default compares the minimised n-gram state
("state", here the bigram context) and keeps the state before </s> at the end.

Request (JSON file given as argv[1]):
  symbols, blank, sil: the token set; words: [[word, [[token ids]...]], ...] (word id = index;
  the last entry is <unk> with no spelling); unk: its id; lm: {"n", "begin", "end",
  "table": n*n log10 P(w | prev) row-major, "index": LM id per word id} (a bigram LM);
  emissions: [T][V]; options: beam, beam_size_token, beam_threshold, lm_weight, word_score,
  unk_score (null = -inf), sil_score, log_add, nbest; merge: "history" | "state";
  enumerate: also return the best score over every hypothesis path (no merging, no pruning).
Answer (stdout): {"hyps": [{"score", "path", "words"}...] best first, "enumerated": best score}.
"""
import json
import math
import struct
import sys

INF = float("inf")


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def trie_log_add(a, b):
    if a < b:
        a, b = b, a
    if a == -INF:
        return a
    d = b - a
    return a if d < -39.14 else a + math.log1p(math.exp(d))


class TrieNode:
    def __init__(self, ident):
        self.id = ident
        self.children = {}
        self.labels = []
        self.scores = []
        self.max_score = 0.0


def build_trie(req, lm_score):
    nodes = [TrieNode(0)]
    root = nodes[0]
    begin = req["lm"]["begin"]
    for w, (_, spellings) in enumerate(req["words"]):
        for spelling in spellings:
            node = root
            for tok in spelling:
                if tok not in node.children:
                    nodes.append(TrieNode(len(nodes)))
                    node.children[tok] = nodes[-1]
                node = node.children[tok]
            if len(node.labels) < 6:  # flashlight keeps at most 6 words per node
                node.labels.append(w)
                node.scores.append(lm_score(begin, w))

    def smear(node):
        node.max_score = -INF
        for s in node.scores:
            node.max_score = f32(trie_log_add(node.max_score, s))
        for child in node.children.values():
            smear(child)
            if child.max_score > node.max_score:
                node.max_score = child.max_score

    smear(root)
    return root


class Hyp:
    __slots__ = ("score", "lm_key", "lm_state", "node", "parent", "token", "word", "prev_blank", "am", "lm")

    def __init__(self, score, lm_key, lm_state, node, parent, token, word, prev_blank, am, lm):
        self.score, self.lm_key, self.lm_state, self.node = score, lm_key, lm_state, node
        self.parent, self.token, self.word, self.prev_blank, self.am, self.lm = parent, token, word, prev_blank, am, lm

    def key(self):
        return (self.lm_key, self.node.id, self.token, self.prev_blank)


def store(cands, best, opt, sort, merge):
    valid = [c for c in cands if c.score >= best - opt["beam_threshold"]]
    if merge:
        groups = {}
        for c in valid:
            groups.setdefault(c.key(), []).append(c)
        valid = []
        for group in groups.values():
            group.sort(key=lambda c: -c.score)
            top = group[0]
            score = top.score
            for other in group[1:]:
                hi, lo = max(score, other.score), min(score, other.score)
                score = hi + math.log1p(math.exp(lo - hi)) if opt["log_add"] else hi
            top.score = score
            valid.append(top)
    valid.sort(key=lambda c: -c.score)
    return valid[: opt["beam"]]


def decode(req, merge=True, unbounded=False):
    opt = dict(req["options"])
    if unbounded:
        opt.update(beam=10 ** 9, beam_threshold=INF, beam_size_token=0)
    unk_score = -INF if opt["unk_score"] is None else opt["unk_score"]
    lm = req["lm"]
    n_lm, table, index = lm["n"], lm["table"], lm["index"]
    by_history = req["merge"] == "history"

    def lm_score(state, word):
        return f32(table[state * n_lm + index[word]])

    root = build_trie(req, lm_score)
    E = req["emissions"]
    V = len(req["symbols"])
    blank, sil, unk = req["blank"], req["sil"], req["unk"]
    k = opt["beam_size_token"] if 0 < opt["beam_size_token"] < V else V

    def next_key(h, word):
        return h.lm_key + (word,) if by_history else index[word]

    hyps = [Hyp(0.0, () if by_history else lm["begin"], lm["begin"], root, None, sil, -1, False, 0.0, 0.0)]
    for t, row in enumerate(E):
        order = sorted(range(V), key=lambda v: -row[v])[:k]
        cands, best = [], -INF

        def add(score, *args):
            nonlocal best
            best = max(best, score)
            if score >= best - opt["beam_threshold"]:
                cands.append(Hyp(score, *args))

        for h in hyps:
            look = 0.0 if h.node is root else h.node.max_score
            for n in order:
                child = h.node.children.get(n)
                if child is None:
                    continue
                am = row[n]
                score = h.score + am + (opt["sil_score"] if n == sil else 0.0)
                if (h.prev_blank or n != h.token) and child.children:
                    d = child.max_score - look
                    add(score + opt["lm_weight"] * d, h.lm_key, h.lm_state, child, h, n, -1, False, h.am + am, h.lm + d)
                ending = list(child.labels)
                if not ending and unk_score > -INF:
                    ending = [unk]
                for w in ending:
                    # flashlight skips a repeated token's word at the root (one-token words),
                    # but not its <unk> (LexiconDecoder.cpp: the guard is inside the labels loop).
                    if child.labels and h.node is root and h.token == n:
                        continue
                    d = lm_score(h.lm_state, w) - look
                    bonus = unk_score if w == unk and not child.labels else opt["word_score"]
                    add(score + opt["lm_weight"] * d + bonus, next_key(h, w), index[w], root, h, n, w, False,
                        h.am + am, h.lm + d)
            if not h.prev_blank or h.node is root:
                n = sil if h.node is root else h.token
                add(h.score + row[n] + (opt["sil_score"] if n == sil else 0.0), h.lm_key, h.lm_state, h.node, h, n,
                    -1, False, h.am + row[n], h.lm)
            add(h.score + row[blank], h.lm_key, h.lm_state, h.node, h, blank, -1, True, h.am + row[blank], h.lm)
        hyps = store(cands, best, opt, False, merge)

    cands, best = [], -INF
    nice = any(h.node is root for h in hyps)
    for h in hyps:
        if nice and h.node is not root:
            continue
        end = f32(table[h.lm_state * n_lm + lm["end"]])
        score = h.score + opt["lm_weight"] * end
        best = max(best, score)
        if score >= best - opt["beam_threshold"]:
            # flashlight: finish() gives each history its own child state.
            cands.append(Hyp(score, h.lm_key + (-1,) if by_history else h.lm_key, h.lm_state, h.node, h, sil, -1,
                             False, h.am, h.lm + end))
    final = store(cands, best, opt, True, merge)

    out = []
    for f in final[: opt["nbest"]]:
        path, words = [], []
        h = f.parent
        while h.parent is not None:
            path.append(h.token)
            if h.word >= 0:
                words.append(req["words"][h.word][0])
            h = h.parent
        out.append({"score": f.score, "path": path[::-1], "words": words[::-1]})
    return out


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    answer = {"hyps": decode(req)}
    if req.get("enumerate"):
        every = decode(dict(req, options=dict(req["options"], nbest=1)), merge=False, unbounded=True)
        answer["enumerated"] = every[0]["score"] if every else None
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
