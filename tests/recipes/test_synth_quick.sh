#!/usr/bin/env bash
# ctest recipe_synth_quick: recipes/synth/run.sh --quick from an empty work directory (every
# stage runs; report.sh checks each stage's files and numbers and that LM decoding is not worse
# than greedy), then once more: the second run must skip every stage and print the same table.
#   tests/recipes/test_synth_quick.sh WORKDIR
set -euo pipefail
workdir=$1
rm -rf "$workdir"
run=("$(dirname "$0")/../../recipes/synth/run.sh" --quick --threads 2 --workdir "$workdir")
"${run[@]}"
checkpoint="$workdir/finetune_pretrained/checkpoint_best.pt"
before=$(stat -c %Y "$checkpoint")
cp "$workdir/results.md" "$workdir/results.first.md"
second=$("${run[@]}" 2>&1)
if grep "^== " <<<"$second"; then
  echo "FAIL: the second run repeated the stages above" >&2
  exit 1
fi
[ "$(stat -c %Y "$checkpoint")" = "$before" ] || { echo "FAIL: the second run rewrote $checkpoint" >&2; exit 1; }
cmp "$workdir/results.md" "$workdir/results.first.md" || { echo "FAIL: the second run's table differs" >&2; exit 1; }
echo "recipe_synth_quick: every stage ran once; the second run resumed without redoing any"
