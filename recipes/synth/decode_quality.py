#!/usr/bin/python3
"""Word confidence (ROC AUC) and hotword biasing measured on a finished main-job run (issue 18.7, 18.8).

Reads a run of recipes/synth/run.sh (RUN: the stored test emissions decode/MODEL_test.emissions,
the tuned decoder flags decode/tuned_MODEL.flags, lm/{lm.bin,lexicon.txt}, corpus/test.wrd,
decode/unseen_ids.txt) and never runs the acoustic model: every decode is `w2v decode` on the
stored emissions with the recipe's lexicon decoder (beam 100) and the model's tuned flags.
Hypothesis words are labelled right/wrong by `w2v wer --report`'s alignment (the same alignment
that counts the WER: a hypothesis word is right when aligned as a match).

- confidence: AUC of the per-word confidence (`w2v decode --format json`) for right vs wrong
  hypothesis words (Mann-Whitney, ties count half), the accuracy of the most and least
  confident quarter of the words, per model, overall and per voice group (seen / the test-only
  voice).
- hotwords: without boost and at each boost, each hotword boosted alone (one decode per word,
  counts summed over the decodes) and all boosted together: the recall of the hotwords'
  reference occurrences, false alarms (hypothesis hotwords not aligned to the same reference
  word) and the other words' error rate: substitutions and deletions of the other reference
  words plus inserted other words, over the other reference words.

  recipes/synth/decode_quality.py RUN OUT [--w2v build/w2v] [--models pretrained selftrained]
      [--hotwords TEN FIFTEEN ...] [--boosts 2 4 8]

Writes OUT/ref.txt, OUT/<model>[_boostB_WORD].{json,hyp,report} and OUT/summary.json; prints
markdown tables. stdlib only; about 15 s for the two models.
"""
import argparse
import json
import os
import subprocess
import sys

# The rarest words of the test references that are not function words (1-6 occurrences each of
# 491 reference words): the tens and teens and AM/PM, the words the models get wrong most.
DEFAULT_HOTWORDS = ["TEN", "FIFTEEN", "EIGHTEEN", "TWENTY", "THIRTY", "FORTY", "FIFTY", "AM", "PM"]


def run(cmd, **kwargs):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"decode_quality.py: {' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def read_flags(path):
    with open(path) as f:
        flags = f.read().split()
    if not flags:
        sys.exit(f"decode_quality.py: {path} holds no flags")
    return flags


def decode(args, model, out_stem, extra):
    """w2v decode of MODEL's stored test emissions; returns {id: [(word, confidence), ...]}."""
    run_dir = args.run
    cmd = [args.w2v, "decode", os.path.join(run_dir, "decode", f"{model}_test.emissions"),
           "--dict", os.path.join(run_dir, "corpus", "dict.ltr.txt"), "--decoder", "lexicon",
           "--lexicon", os.path.join(run_dir, "lm", "lexicon.txt"), "--lm", os.path.join(run_dir, "lm", "lm.bin"),
           "--beam", "100", *read_flags(os.path.join(run_dir, "decode", f"tuned_{model}.flags")), *extra,
           "--format", "json", "-o", out_stem + ".json"]
    run(cmd)
    with open(out_stem + ".json") as f:
        files = json.load(f)["files"]
    return {u["path"]: [(w["word"], w["confidence"]) for w in u["words"]] for u in files}


def align(args, refs, hyps, out_stem):
    """Per id, the (ref word | None, hyp word | None) pairs of w2v wer's alignment."""
    with open(out_stem + ".hyp", "w") as f:
        for i in refs:
            f.write(f"{i} {' '.join(w for w, _ in hyps[i])}\n")
    run([args.w2v, "wer", args.ref_file, out_stem + ".hyp", "--layout", "first-column", "--report", out_stem + ".report"])
    pairs, current, ref_line = {}, None, None
    with open(out_stem + ".report") as f:
        for line in f:
            if line.startswith("id: "):
                current = line[4:].strip()
            elif line.startswith("REF:"):
                ref_line = line.split()[1:]
            elif line.startswith("HYP:"):
                hyp_line = line.split()[1:]
                assert len(hyp_line) == len(ref_line), f"{out_stem}.report: REF and HYP of {current} differ in length"
                pairs[current] = [(None if r == "***" else r, None if h == "***" else h) for r, h in zip(ref_line, hyp_line)]
    missing = set(refs) - set(pairs)
    if missing:
        sys.exit(f"decode_quality.py: {out_stem}.report lacks ids {sorted(missing)[:5]}")
    return pairs


def auc(right, wrong):
    """P(a right word's confidence > a wrong word's), ties counting half (Mann-Whitney U / (n1 n2))."""
    if not right or not wrong:
        return float("nan")
    scored = sorted([(c, 1) for c in right] + [(c, 0) for c in wrong])
    rank_sum, i = 0.0, 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2.0  # ranks i+1..j share their mean
        rank_sum += mean_rank * sum(label for _, label in scored[i:j])
        i = j
    n1, n2 = len(right), len(wrong)
    return (rank_sum - n1 * (n1 + 1) / 2.0) / (n1 * n2)


def confidence_stats(words):
    """words: [(confidence, right)]. AUC, counts, accuracy of the most/least confident quarter."""
    right = [c for c, ok in words if ok]
    wrong = [c for c, ok in words if not ok]
    ranked = sorted(words, key=lambda w: w[0])
    quarter = max(1, len(ranked) // 4)
    accuracy = lambda part: sum(ok for _, ok in part) / len(part) if part else float("nan")
    return {"auc": auc(right, wrong), "right": len(right), "wrong": len(wrong),
            "accuracy_all": accuracy(ranked), "accuracy_least_confident_quarter": accuracy(ranked[:quarter]),
            "accuracy_most_confident_quarter": accuracy(ranked[-quarter:]),
            "mean_confidence_right": sum(right) / len(right) if right else float("nan"),
            "mean_confidence_wrong": sum(wrong) / len(wrong) if wrong else float("nan")}


def labelled_words(hyps, pairs):
    """Per id, [(confidence, right)] in hypothesis order, checked against the alignment's hyp words."""
    out = {}
    for i, words in hyps.items():
        aligned = [(r, h) for r, h in pairs[i] if h is not None]
        assert [h for _, h in aligned] == [w for w, _ in words], f"utterance {i}: alignment and JSON words differ"
        out[i] = [(c, r == h) for (_, c), (r, h) in zip(words, aligned)]
    return out


def hotword_stats(pairs, hotwords):
    hits = total = false_alarms = other_errors = other_words = 0
    for utt in pairs.values():
        for r, h in utt:
            if r in hotwords:
                total += 1
                hits += r == h
            elif r is not None:
                other_words += 1
                other_errors += r != h  # substituted or deleted
            elif h not in hotwords:
                other_errors += 1  # an inserted other word
            if h in hotwords and r != h:
                false_alarms += 1
    return {"recall": hits / total if total else float("nan"), "hits": hits, "occurrences": total,
            "false_alarms": false_alarms, "other_error_rate": other_errors / other_words, "other_errors": other_errors,
            "other_words": other_words}


def summed(stats):
    total = {k: sum(s[k] for s in stats) for k in ("hits", "occurrences", "false_alarms", "other_errors", "other_words")}
    total["recall"] = total["hits"] / total["occurrences"] if total["occurrences"] else float("nan")
    total["other_error_rate"] = total["other_errors"] / total["other_words"]
    return total


def hotword_runs(args, model, stem, plain_pairs):
    """Hotword stats without boost and at each boost, each hotword boosted alone and all together.

    A word boosted alone gains over every competitor; boosted together, the hotwords also compete
    with each other (the tens and teens are mostly confused with one another)."""
    alone = {"none": summed([hotword_stats(plain_pairs, {w}) for w in args.hotwords])}
    together = {"none": hotword_stats(plain_pairs, set(args.hotwords))}
    for boost in args.boosts:
        stats = []
        for word in args.hotwords + [None]:
            words = args.hotwords if word is None else [word]
            tag = "all" if word is None else word
            hotword_file = f"{stem}_hotwords_{tag}.txt"
            with open(hotword_file, "w") as f:
                f.write("".join(w + "\n" for w in words))
            bstem = f"{stem}_boost{boost:g}_{tag}"
            hyps = decode(args, model, bstem, ["--hotwords", hotword_file, "--hotword-boost", f"{boost:g}"])
            stats.append(hotword_stats(align(args, args.refs, hyps, bstem), set(words)))
        alone[f"{boost:g}"] = summed(stats[:-1])
        together[f"{boost:g}"] = stats[-1]
    return {"each alone": alone, "all together": together}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", help="a finished recipes/synth/run.sh work directory")
    ap.add_argument("out", help="output directory")
    ap.add_argument("--w2v", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "w2v"))
    ap.add_argument("--models", nargs="+", default=["pretrained", "selftrained"])
    ap.add_argument("--hotwords", nargs="+", default=DEFAULT_HOTWORDS)
    ap.add_argument("--boosts", nargs="+", type=float, default=[2.0, 4.0, 8.0])
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    with open(os.path.join(args.run, "corpus", "test.wrd")) as f:
        refs = {str(i): line.split() for i, line in enumerate(f)}
    args.refs = refs
    args.ref_file = os.path.join(args.out, "ref.txt")
    with open(args.ref_file, "w") as f:
        for i, words in refs.items():
            f.write(f"{i} {' '.join(words)}\n")
    with open(os.path.join(args.run, "decode", "unseen_ids.txt")) as f:
        unseen = {line.strip().removeprefix("None-") for line in f if line.strip()}
    summary = {"hotwords": args.hotwords, "models": {}}
    print("| model | words right / wrong | AUC | AUC seen voices | AUC unseen voice | accuracy: all, least confident quarter, most confident quarter | mean confidence right / wrong |")
    print("|---|---|---|---|---|---|---|")
    for model in args.models:
        stem = os.path.join(args.out, model)
        hyps = decode(args, model, stem, [])
        if set(hyps) != set(refs):
            sys.exit(f"decode_quality.py: {model}'s emissions hold ids other than the {len(refs)} test rows")
        pairs = align(args, refs, hyps, stem)
        labelled = labelled_words(hyps, pairs)
        groups = {"all": list(labelled)}
        groups["seen"] = [i for i in labelled if i not in unseen]
        groups["unseen"] = [i for i in labelled if i in unseen]
        conf = {g: confidence_stats([w for i in ids for w in labelled[i]]) for g, ids in groups.items()}
        entry = {"confidence": conf, "hotwords": hotword_runs(args, model, stem, pairs)}
        summary["models"][model] = entry
        a = conf["all"]
        print(f"| {model} | {a['right']} / {a['wrong']} | {a['auc']:.3f} | {conf['seen']['auc']:.3f} | "
              f"{conf['unseen']['auc']:.3f} | {a['accuracy_all']:.1%}, {a['accuracy_least_confident_quarter']:.1%}, "
              f"{a['accuracy_most_confident_quarter']:.1%} | {a['mean_confidence_right']:.3f} / "
              f"{a['mean_confidence_wrong']:.3f} |")

    print(f"\nHotwords: {' '.join(args.hotwords)}, each boosted alone (one decode per word; recall, false alarms and"
          " other words summed over the decodes) and all boosted together\n")
    print("| model | hotwords | boost | hotword recall | false alarms | other words' error rate |")
    print("|---|---|---|---|---|---|")
    for model, entry in summary["models"].items():
        for mode in ("each alone", "all together"):
            for boost, s in entry["hotwords"][mode].items():
                print(f"| {model} | {mode} | {boost} | {s['recall']:.1%} ({s['hits']}/{s['occurrences']}) | "
                      f"{s['false_alarms']} | {s['other_error_rate']:.2%} ({s['other_errors']}/{s['other_words']}) |")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
