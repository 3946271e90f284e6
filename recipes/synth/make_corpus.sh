#!/usr/bin/env bash
# Builds a synthetic multi-speaker speech corpus from Debian TTS engines (docs/corpus.md).
#   recipes/synth/make_corpus.sh OUT [--utterances N] [--seed S] [--voices main|all]
#                                    [--task english|digits] [--noise-prob P] [--augment P] [--jobs J]
#                                    [--max-seconds S]   (longer utterances are left out; default 30)
# Writes OUT/audio/{train,valid,test}/*.wav (16 kHz mono s16), OUT/{split}.tsv/.ltr/.wrd,
# OUT/dict.ltr.txt, OUT/lm.txt (LM text without the test sentences), OUT/utterances.tsv
# (voice, rate, pitch, noise, and with --augment its effects, per utterance) and OUT/voices.txt.
# Deterministic for a seed. --augment P: training utterances get speed/reverb/band/telephone
# effects with probability P (valid and test stay clean).
# The fairseq files come from `w2v manifest/labels/dict` ($W2V, else build*/w2v) when a
# binary exists, otherwise (or with W2V=none) corpus.py writes them in the same format.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
out="$1"
shift

w2v="${W2V:-}"
if [ -z "$w2v" ]; then
  for candidate in "$repo/build/w2v" "$repo"/build-*/w2v; do
    # An older build may lack the corpus subcommands.
    if [ -x "$candidate" ] && "$candidate" --help 2>/dev/null | grep '^ *manifest ' >/dev/null; then w2v="$candidate"; break; fi
  done
fi

if [ "$w2v" = none ]; then
  w2v=""
elif [ -n "$w2v" ] && [ ! -x "$w2v" ]; then
  echo "make_corpus: W2V=$w2v is not an executable" >&2
  exit 2
fi

mkdir -p "$out"
if [ -n "$w2v" ]; then
  /usr/bin/python3 "$here/corpus.py" "$out" "$@"
  for split in train valid test; do
    "$w2v" manifest "$out/audio/$split" --dest "$out" --name "$split" --ext wav > /dev/null
    "$w2v" labels "$out/$split.tsv" --transcripts "$out/$split.transcripts.tsv" > /dev/null
  done
  "$w2v" dict "$out/train.ltr" -o "$out/dict.ltr.txt" > /dev/null
else
  echo "make_corpus: no w2v binary found (set W2V=...); corpus.py writes the fairseq files" >&2
  /usr/bin/python3 "$here/corpus.py" "$out" --write-fairseq "$@"
fi
echo "make_corpus: $out: $(($(wc -l < "$out/train.tsv") - 1)) train, $(($(wc -l < "$out/valid.tsv") - 1)) valid," \
  "$(($(wc -l < "$out/test.tsv") - 1)) test utterances" >&2
