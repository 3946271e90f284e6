#!/usr/bin/env bash
# Word and unit error rates of a trained model per inference precision (docs/inference.md):
# for each fine-tuned model of a recipes/synth/run.sh work directory and each precision, w2v
# infer on the test split with greedy decoding and with the lexicon decoder at the LM weights
# run.sh tuned on valid. Prints one table row per model and decoder.
#   bench/model/precision_wer.sh WORKDIR [PRECISIONS (fp32 bf16 int8)]
#   W2V (default build/w2v), W2V_THREADS (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
workdir=${1:?usage: bench/model/precision_wer.sh WORKDIR [PRECISIONS]}
shift
precisions=("$@")
[ ${#precisions[@]} -gt 0 ] || precisions=(fp32 bf16 int8)
w2v=${W2V:-build/w2v}
threads=${W2V_THREADS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# error_rates SUMMARY: "WER / UER" from w2v infer's summary line.
error_rates() { sed -n 's/.*WER: \([0-9.]*\) %.*UER: \([0-9.]*\) %.*/\1 \/ \2/p' "$1"; }

echo "| model | decoding |$(printf ' %s WER / UER %% |' "${precisions[@]}")"
echo "|---|---|$(printf -- '---|%.0s' "${precisions[@]}")"
for init in pretrained selftrained; do
  model="$workdir/finetune_$init/checkpoint_best.pt"
  [ -f "$model" ] || continue
  read -ra tuned < "$workdir/decode/tuned_$init.flags"
  greedy_row="| $init | greedy |"
  lm_row="| $init | lexicon + 4-gram, tuned ($(echo "${tuned[@]}")) |"
  for p in "${precisions[@]}"; do
    "$w2v" infer "$workdir/corpus" --subset test --path "$model" --precision "$p" --threads "$threads" \
      --decoder viterbi --dump-emissions "$out/$init.$p.emissions" > "$out/greedy.txt"
    "$w2v" infer "$workdir/corpus" --subset test --path "$model" --threads "$threads" \
      --load-emissions "$out/$init.$p.emissions" --decoder lexicon --lexicon "$workdir/lm/lexicon.txt" \
      --lm "$workdir/lm/lm.bin" --beam 100 "${tuned[@]}" > "$out/lm.txt"
    greedy_row+=" $(error_rates "$out/greedy.txt") |"
    lm_row+=" $(error_rates "$out/lm.txt") |"
  done
  echo "$greedy_row"
  echo "$lm_row"
done
