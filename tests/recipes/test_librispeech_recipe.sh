#!/usr/bin/env bash
# recipes/librispeech/run.sh --tiny on a LibriSpeech-shaped tree built here with espeak-ng + sox:
# every command of the recipe runs (manifests, labels, dict, pre-training, fine-tuning, 4-gram,
# lexicon, greedy and LM decoding), then its outputs are checked against the tree, and the
# fine-tuned model must have fitted its training utterances (greedy WER/UER bounds, see below).
#   tests/recipes/test_librispeech_recipe.sh [WORKDIR]   (W2V_BUILD_DIR: the build with w2v)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-${W2V_BUILD_DIR:-$repo/build}/runs/librispeech_tiny}"
fail() { echo "test_librispeech_recipe: FAIL: $*" >&2; exit 1; }
for tool in espeak-ng sox; do command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/setup.sh installs it)"; done
[ -x "${W2V_BUILD_DIR:-$repo/build}/w2v" ] || fail "no w2v binary in ${W2V_BUILD_DIR:-$repo/build}"

rm -rf "$work"
mkdir -p "$work/LibriSpeech"
ls_root="$(realpath "$work/LibriSpeech")"

# utterance SPLIT SPK CHAPTER UTT VOICE TEXT: LibriSpeech layout, 16 kHz FLAC, upper-case
# transcript line; the TTS engine gets lower-case text (it spells capitalised words).
utterance() {
  local split="$1" spk="$2" chapter="$3" utt="$4" voice="$5" text="$6"
  local dir="$ls_root/$split/$spk/$chapter" id="$spk-$chapter-$utt"
  mkdir -p "$dir"
  espeak-ng -v "$voice" -s 170 --stdout "${text,,}" | sox -t wav - -r 16000 -c 1 -b 16 "$dir/$id.flac"
  echo "$id $text" >> "$dir/$spk-$chapter.trans.txt"
}
utterance train-clean-100 19 198 0000 en-us+m3 "THE CAT SAT ON THE MAT"
utterance train-clean-100 19 198 0001 en-us+m3 "A DOG RAN IN THE PARK"
utterance train-clean-100 19 198 0002 en-us+m3 "SHE READ THE OLD BOOK"
utterance train-clean-100 19 198 0003 en-us+m3 "WE WALKED TO THE RIVER"
utterance train-clean-100 26 495 0000 en-gb+f3 "THE SUN IS WARM TODAY"
utterance train-clean-100 26 495 0001 en-gb+f3 "HE SAW A RED BIRD"
utterance train-clean-100 26 495 0002 en-gb+f3 "THEY SANG AN OLD SONG"
utterance train-clean-100 26 495 0003 en-gb+f3 "IT'S A LONG ROAD HOME"
utterance dev-other 3 100 0000 en-us+f2 "THE BIRD SAT ON THE ROAD"
utterance dev-other 3 100 0001 en-us+f2 "SHE SANG TO THE DOG"
utterance test-clean 7 200 0000 en-gb+m2 "THE DOG SAW THE CAT"
utterance test-clean 7 200 0001 en-gb+m2 "WE READ A LONG BOOK"
utterance test-other 8 300 0000 en-us+m5 "THE RIVER IS WARM"
utterance test-other 8 300 0001 en-us+m5 "HE WALKED IN THE SUN"
# The LM corpus: training sentences plus sentences with test words. STORMY appears only here,
# so finding it in the lexicon shows the recipe used this file rather than train.wrd; QUIXOTE
# has letters the training transcripts lack (Q, X), so the lexicon must skip it.
{
  cat "$ls_root"/train-clean-100/*/*/*.trans.txt | cut -d' ' -f2-
  printf '%s\n' "THE DOG SAW A CAT IN THE PARK" "WE READ THE BOOK TO THE CAT" "THE RIVER IS LONG AND WARM" \
    "HE WALKED HOME IN THE SUN" "THE BIRD SAT ON THE ROAD" "SHE SANG TO THE DOG" "QUIXOTE READ A BOOK" "A STORMY DAY"
} | gzip > "$ls_root/librispeech-lm-norm.txt.gz"

recipe="$repo/recipes/librispeech/run.sh"
# --tiny's 2 fine-tuning updates learn nothing, so its hypotheses could be anything. --ft adds
# many passes over the 8 training utterances at a high learning rate with light masking (as
# recipe_synth_quick does), so that the model must fit them: decoded below, their WER and UER
# show that manifests, labels, dictionary, training and decoding fit together.
ft_fit=(--ft optimization.max_update=FT_UPDATES --ft "optimization.lr=[0.003]" --ft model.mask_prob=0.1
        --ft model.mask_channel_prob=0.0 --ft model.layerdrop=0.0 --ft dataset.validate_interval_updates=FT_UPDATES)
ft_fit=("${ft_fit[@]//FT_UPDATES/${W2V_TINY_FT_UPDATES:-250}}")
W2V_SKIP_SETUP=1 "$recipe" --librispeech "$ls_root" --workdir "$work/run" --tiny --threads 2 "${ft_fit[@]}" \
  > "$work/run.log" 2>&1 || { tail -n 40 "$work/run.log" >&2; fail "run.sh --tiny failed (log: $work/run.log)"; }

run="$work/run"
data="$run/data"
# Manifests: first line is the split's root, then one entry per FLAC file of that split only.
check_manifest() {
  local tsv="$1" root="$2" count="$3"
  [ -s "$tsv" ] || fail "missing $tsv"
  [ "$(head -n 1 "$tsv")" = "$root" ] || fail "$tsv: root line '$(head -n 1 "$tsv")', expected $root"
  [ "$(($(wc -l < "$tsv") - 1))" = "$count" ] || fail "$tsv: $(($(wc -l < "$tsv") - 1)) entries, expected $count"
}
check_manifest "$data/train.tsv" "$ls_root/train-clean-100" 8
check_manifest "$data/dev_other.tsv" "$ls_root/dev-other" 2
check_manifest "$data/test_clean.tsv" "$ls_root/test-clean" 2
check_manifest "$data/test_other.tsv" "$ls_root/test-other" 2
pt_entries=$(($(wc -l < "$data/pretrain/train.tsv") + $(wc -l < "$data/pretrain/valid.tsv") - 2))
[ "$pt_entries" = 8 ] || fail "pre-training manifests hold $pt_entries files, expected the 8 train-* files"
if tail -n +2 "$data/pretrain/train.tsv" "$data/pretrain/valid.tsv" | grep -e '^dev-' -e '^test-' >/dev/null; then
  fail "pre-training manifest contains dev/test audio"
fi
[ "$(($(wc -l < "$data/pretrain/valid.tsv") - 1))" -ge 1 ] || fail "pre-training valid.tsv is empty"

# Labels: line i of NAME.wrd is the transcript of entry i; .ltr spells it with '|' word ends.
for name in train dev_other test_clean test_other; do
  [ "$(wc -l < "$data/$name.wrd")" = "$(($(wc -l < "$data/$name.tsv") - 1))" ] || fail "$name.wrd line count"
  paste <(tail -n +2 "$data/$name.tsv" | cut -f1) "$data/$name.wrd" "$data/$name.ltr" |
    while IFS=$'\t' read -r path words letters; do
      id=$(basename "$path" .flac)
      expected=$(grep -h "^$id " "$ls_root"/*/*/*/*.trans.txt | cut -d' ' -f2-)
      [ "$words" = "$expected" ] || fail "$name.wrd: '$words' for $id, transcript says '$expected'"
      spelled="$(sed 's/ /|/g; s/./& /g' <<<"$words")|"
      [ "$letters" = "$spelled" ] || fail "$name.ltr: '$letters' for $id, expected '$spelled'"
    done
done
grep -q "^| " "$data/dict.ltr.txt" && grep -q "^' 1$" "$data/dict.ltr.txt" && grep -q "^T " "$data/dict.ltr.txt" \
  || fail "dict.ltr.txt lacks '|', the apostrophe (count 1) or T"

# Training: both stages saved checkpoints; fine-tuning validated on dev_other with WER.
for f in pretrain/checkpoint_best.pt pretrain/checkpoint_last.pt finetune/checkpoint_best.pt; do
  [ -s "$run/$f" ] || fail "missing $run/$f"
done
# Not grep -q at a pipe's end: under pipefail its early exit fails the pipeline whenever the
# writer still had output (SIGPIPE); the fine-tuning log is over 64 KB, and the check failed once.
grep '"tag":"train_inner"' "$run/pretrain/train.log.jsonl" | grep '"num_updates":2' >/dev/null \
  || fail "pre-training did not log update 2"
grep '"tag":"valid"' "$run/finetune/train.log.jsonl" | grep '"subset":"dev_other"' | grep '"valid_wer"' >/dev/null \
  || fail "fine-tuning did not validate on dev_other with a WER"

# LM and lexicon from librispeech-lm-norm.txt.gz.
grep -q '^ngram 4=' "$run/lm/4-gram.arpa" || fail "4-gram.arpa has no 4-grams"
[ -s "$run/lm/4-gram.bin" ] || fail "missing 4-gram.bin"
grep -q $'^STORMY\tS T O R M Y |$' "$run/lm/lexicon.txt" && grep -q $'^IT\'S\tI T \' S |$' "$run/lm/lexicon.txt" \
  || fail "lexicon.txt lacks STORMY/IT'S (LM corpus not used, or wrong spelling)"
! grep -q '^QUIXOTE' "$run/lm/lexicon.txt" || fail "lexicon.txt spells QUIXOTE, whose Q and X are not in dict.ltr.txt"

# Decoding: hypotheses for every test utterance, references equal to the transcripts, a WER
# per subset and decoder in results.md.
for subset in test_clean test_other; do
  for decoder in viterbi lexicon; do
    out="$run/decode/${subset}_$decoder"
    hypo=$(ls "$out"/hypo.word-*-"$subset".txt 2>/dev/null | head -n 1)
    ref=$(ls "$out"/ref.word-*-"$subset".txt 2>/dev/null | head -n 1)
    [ -n "$hypo" ] && [ -n "$ref" ] || fail "$out: no hypo.word/ref.word files"
    [ "$(wc -l < "$hypo")" = 2 ] || fail "$hypo: expected 2 hypotheses"
    diff <(sed 's/ (None-[0-9]*)$//' "$ref" | sort) <(sort "$data/$subset.wrd") > /dev/null \
      || fail "$ref differs from $subset.wrd"
    row=$(grep "^| $subset | " "$run/results.md" | grep -c -E "\| [0-9]+\.[0-9]+ \| [0-9.]+ \|$" || true)
    [ "$row" = 2 ] || fail "results.md lacks numeric WERs for $subset"
    # A lexicon decoder only emits lexicon words.
    if [ "$decoder" = lexicon ]; then
      sed 's/ (None-[0-9]*)$//' "$hypo" | tr ' ' '\n' | sed '/^$/d' | while read -r word; do
        grep -q "^$word"$'\t' "$run/lm/lexicon.txt" || fail "$hypo: '$word' is not in the lexicon"
      done
    fi
  done
done

# Content: the fine-tuned model (checkpoint_last.pt, after the --ft passes) greedy-decodes the
# 8 utterances it trained on. Every hypothesis must be non-empty and carry its utterance's id,
# the WER w2v reports must equal one computed here from the hypo/ref files, and WER and UER must
# show the fit: measured 4.8 % WER / 1.2 % UER (2026-11-30); a model that learned nothing gives
# about 100 % (empty hypotheses exactly 100 %), labels shifted against the audio far above 50 %.
fit="$work/train_decode"
"${W2V_BUILD_DIR:-$repo/build}/w2v" infer "$data" --subset train --path "$run/finetune/checkpoint_last.pt" \
  --results-path "$fit" --decoder viterbi --threads 2 > "$fit.summary" 2>&1 || { cat "$fit.summary" >&2; fail "decoding train failed"; }
hypo=$(ls "$fit"/hypo.word-*-train.txt 2>/dev/null | head -n 1)
ref=$(ls "$fit"/ref.word-*-train.txt 2>/dev/null | head -n 1)
[ -n "$hypo" ] && [ -n "$ref" ] || fail "$fit: no hypo.word/ref.word files"
diff <(sed 's/ (None-[0-9]*)$//' "$ref" | sort) <(sort "$data/train.wrd") > /dev/null || fail "$ref differs from train.wrd"
reported_wer=$(sed -n 's/.*WER: \([0-9.]*\) %.*/\1/p' "$fit.summary" | head -n 1)
reported_uer=$(sed -n 's/.*UER: \([0-9.]*\) %.*/\1/p' "$fit.summary" | head -n 1)
[ -n "$reported_wer" ] && [ -n "$reported_uer" ] || fail "no WER/UER in $fit.summary: $(cat "$fit.summary")"
# Word-level Levenshtein per utterance id, summed: an independent check of w2v's scoring.
/usr/bin/python3 - "$hypo" "$ref" "$reported_wer" "$reported_uer" <<'PY' || fail "train decoding: see above"
import re, sys
def read(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^(.*?) ?\((None-\d+)\)$", line.rstrip("\n"))
        if not m: sys.exit(f"{path}: line without an id: {line!r}")
        out[m.group(2)] = m.group(1).split()
    return out
def dist(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]
hyp, ref = read(sys.argv[1]), read(sys.argv[2])
wer, uer = float(sys.argv[3]), float(sys.argv[4])
if sorted(hyp) != sorted(ref) or len(ref) != 8: sys.exit(f"ids: hypotheses {sorted(hyp)}, references {sorted(ref)}")
empty = [k for k, v in hyp.items() if not v]
if empty: sys.exit(f"empty hypotheses for {empty}")
errors = sum(dist(ref[k], hyp[k]) for k in ref)
words = sum(len(v) for v in ref.values())
mine = 100.0 * errors / words
if abs(mine - wer) > 0.01: sys.exit(f"w2v reports WER {wer} %, the files give {mine:.2f} % ({errors} / {words})")
print(f"train (fitted): WER {wer} % ({errors} / {words} words), UER {uer} %, 8 of 8 hypotheses non-empty")
if wer >= 50 or uer >= 25: sys.exit(f"the model did not fit its training utterances: WER {wer} % (must be < 50), UER {uer} % (< 25)")
PY

# A second run resumes: every stage is marked done, nothing is recomputed, the table is printed.
before=$(stat -c %Y "$run/finetune/checkpoint_best.pt")
W2V_SKIP_SETUP=1 "$recipe" --librispeech "$ls_root" --workdir "$run" --tiny > "$work/rerun.log" 2>&1 \
  || fail "second run failed"
[ "$(stat -c %Y "$run/finetune/checkpoint_best.pt")" = "$before" ] || fail "second run retrained"
grep -q "^| test_other | viterbi | " "$work/rerun.log" || fail "second run did not print the results table"

# Usage errors exit 2 with a message.
set +e
W2V_SKIP_SETUP=1 LIBRISPEECH="" "$recipe" --workdir "$work/x" > /dev/null 2> "$work/err.txt"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "LIBRISPEECH" "$work/err.txt" || fail "missing LIBRISPEECH: exit $rc, $(cat "$work/err.txt")"

cat "$run/results.md"
echo "test_librispeech_recipe: OK"
