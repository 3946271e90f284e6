#!/usr/bin/env bash
# Results of recipes/synth/run.sh: training curves as PNG (gnuplot) and the results table.
#   recipes/synth/report.sh WORKDIR TASK QUICK
# Writes WORKDIR/plots/*.png and WORKDIR/results.md, prints the table ($W2V: the w2v binary,
# which scores the unseen voice's utterances apart). With QUICK=1 it also
# checks that every stage left its files and numbers, that each fine-tuned model fits the
# utterances it trained on (greedy UER, non-empty hypotheses) and that LM decoding is not worse
# than greedy, and exits non-zero otherwise.
set -euo pipefail
workdir="$1"
task="$2"
quick="$3"
fail() { echo "report: FAIL: $*" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"

# summary_value FILE FIELD: a number from w2v infer's summary ("WER: 12.34 %", "x-realtime").
summary_wer() { sed -n 's/.*WER: \([0-9.]*\) %.*/\1/p' "$1" | head -n 1; }
summary_uer() { sed -n 's/.*UER: \([0-9.]*\) %.*/\1/p' "$1" | head -n 1; }
summary_xrt() { sed -n "s/.*sentences\/s, \([0-9.]*\) x-realtime.*/\1/p" "$1" | head -n 1; }

# The random-init comparison is there when the run made it (run.sh --compare-scratch or --quick).
inits=(pretrained)
if [ "$quick" = 1 ] || [ -f "$workdir/.done.decode_scratch" ]; then inits+=(scratch); fi
inits+=(selftrained)
models=()
for init in "${inits[@]}"; do models+=("finetune_$init/checkpoint_best.pt"); done
for f in corpus/train.tsv labeled/train.tsv corpus/test.tsv lm/lm.arpa lm/lm.bin lm/lexicon.txt pretrain/checkpoint_last.pt \
         "${models[@]}" pseudo/train.tsv pseudo/train.confidence.tsv selftrain/train.tsv; do
  [ -s "$workdir/$f" ] || fail "missing $workdir/$f"
done

plots="$workdir/plots"
mkdir -p "$plots"
jsonl_columns "$workdir/pretrain/train.log.jsonl" train_inner num_updates loss accuracy prob_perplexity \
  > "$plots/pretrain.dat"
jsonl_columns "$workdir/pretrain/train.log.jsonl" valid num_updates valid_loss valid_accuracy \
  > "$plots/pretrain_valid.dat"
for init in "${inits[@]}"; do
  jsonl_columns "$workdir/finetune_$init/train.log.jsonl" train_inner num_updates loss > "$plots/ft_$init.dat"
  jsonl_columns "$workdir/finetune_$init/train.log.jsonl" valid num_updates valid_wer > "$plots/ft_${init}_valid.dat"
done
[ -s "$plots/pretrain.dat" ] || fail "no training records in pretrain/train.log.jsonl"
[ -s "$plots/ft_pretrained_valid.dat" ] || fail "no validation records in finetune_pretrained/train.log.jsonl"

if command -v gnuplot > /dev/null; then
  plot_pretraining "$plots/pretrain.dat" "$plots/pretrain_valid.dat" "wav2vec 2.0 pretraining ($task corpus)" \
    "$plots/pretraining.png"
  # One curve per fine-tuned model: "FILE" using 1:2 with STYLE title "TITLE", ...
  curves() {
    local suffix="$1" style="$2" init title sep=""
    for init in "${inits[@]}"; do
      case "$init" in
        pretrained) title="pretrained" ;; scratch) title="from scratch" ;; selftrained) title="pretrained + self-training" ;;
      esac
      printf '%s"%s" using 1:2 with %s title "%s"' "$sep" "$plots/ft_$init$suffix.dat" "$style" "$title"
      sep=", "
    done
  }
  gnuplot <<EOF
set terminal pngcairo size 900,400 font ",10"
set output "$plots/finetuning.png"
set multiplot layout 1,2 title "CTC fine-tuning"
set title "CTC loss (bits per sentence)"
plot $(curves "" lines)
set title "valid WER % (greedy)"
set yrange [0:105]
plot $(curves _valid linespoints)
unset multiplot
EOF
fi

declare -A wer uer xrt seen unseen
for init in "${inits[@]}"; do
  seen[$init]=$(voice_group_error "$workdir/corpus" "$workdir/decode/${init}_tuned" seen word)
  unseen[$init]=$(voice_group_error "$workdir/corpus" "$workdir/decode/${init}_tuned" unseen word)
  [ -n "${seen[$init]}" ] && [ -n "${unseen[$init]}" ] || fail "no per-voice WER for $init"
  for decoder in viterbi lexicon tuned; do
    s="$workdir/decode/${init}_$decoder/summary.txt"
    [ -s "$s" ] || fail "missing $s"
    wer[$init,$decoder]=$(summary_wer "$s")
    uer[$init,$decoder]=$(summary_uer "$s")
    xrt[$init,$decoder]=$(summary_xrt "$s")
    [ -n "${wer[$init,$decoder]}" ] || fail "no WER in $s"
  done
done

last_acc=$(tail -n 1 "$plots/pretrain_valid.dat" | awk '{print $3}')
first_acc=$(head -n 1 "$plots/pretrain_valid.dat" | awk '{print $3}')
last_ppl=$(tail -n 1 "$plots/pretrain.dat" | awk '{print $4}')
test_utts=$(($(wc -l < "$workdir/corpus/test.tsv") - 1))
minutes() { awk 'NR>1{s+=$2} END{printf "%.1f", s/16000/60}' "$1"; }
train_min=$(minutes "$workdir/corpus/train.tsv")
labeled_min=$(minutes "$workdir/labeled/train.tsv")
labeled_utts=$(($(wc -l < "$workdir/labeled/train.tsv") - 1))
pseudo_kept=$(($(wc -l < "$workdir/pseudo/train.tsv") - 1))

{
  echo "| $task corpus: ${train_min} min of training audio (pretraining), ${labeled_min} min labeled ($labeled_utts utterances, fine-tuning), $test_utts test utterances (held-out sentences; unseen voice in test) | greedy WER % | greedy UER % | 4-gram LM WER % (weight 2, word score -1) | LM WER %, tuned on valid | LM UER %, tuned | tuned LM WER % seen voices / unseen voice | x-realtime (greedy) |"
  echo "|---|---|---|---|---|---|---|---|"
  for init in "${inits[@]}"; do
    case "$init" in
      pretrained) label="fine-tuned from the pretrained model" ;;
      scratch) label="fine-tuned from random init (same labeled data, same updates)" ;;
      selftrained) label="self-training: fine-tuned from the pretrained model on the labeled + $pseudo_kept pseudo-labeled utterances" ;;
    esac
    echo "| $label | ${wer[$init,viterbi]} | ${uer[$init,viterbi]} | ${wer[$init,lexicon]} | ${wer[$init,tuned]} | ${uer[$init,tuned]} | ${seen[$init]} / ${unseen[$init]} | ${xrt[$init,viterbi]} |"
  done
  echo
  echo "Tuned LM weight / word score / silence weight (w2v tune on valid):"
  for init in "${inits[@]}"; do echo "- $init: $(cat "$workdir/decode/tuned_$init.flags")"; done
  echo "Pseudo-labels: $(tail -n 1 "$workdir/pseudo.log")"
  echo
  # Test utterances as the better LM-decoded model heard them: four of the unseen voice, four others.
  best_init=pretrained
  for init in "${inits[@]}"; do
    awk -v a="${wer[$init,tuned]}" -v b="${wer[$best_init,tuned]}" 'BEGIN{exit !(a < b)}' && best_init=$init
  done
  echo "Test utterances decoded by finetune_$best_init (reference / greedy / 4-gram LM, tuned):"
  echo
  echo "| voice | reference | greedy | with LM |"
  echo "|---|---|---|---|"
  hyp() { sed 's/ (None-[0-9]*)$//' "$workdir/decode/${best_init}_$1/$2.word-checkpoint_best.pt-test.txt"; }
  tail -n +2 "$workdir/corpus/test.tsv" | sed 's/\.wav\t.*//; s/.*\///' |
    paste - <(hyp viterbi ref) <(hyp viterbi hypo) <(hyp tuned hypo) |
    awk -F'\t' 'NR == FNR { voice[$1] = $3; next } { print (voice[$1] ~ /test-only/ ? 0 : 1) "\t" voice[$1] "\t" $2 "\t" $3 "\t" $4 }' \
      <(awk -F'\t' 'NR == FNR { held[$1] = ($2 == "test-only"); next } FNR > 1 { print $1 "\t" $2 "\t" $3 (held[$3] ? " (test-only)" : "") }' \
          "$workdir/corpus/voices.txt" "$workdir/corpus/utterances.tsv") - |
    sort -s -t$'\t' -k1,1n | awk -F'\t' '++shown[$1] <= 4 { printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5 }'
  echo
  echo "Pretraining: valid contrastive accuracy ${first_acc:-?} -> ${last_acc:-?}, prob_perplexity ${last_ppl:-?} of 640."
  echo "Plots: $plots/pretraining.png, $plots/finetuning.png"
} | tee "$workdir/results.md"

if [ "$quick" = 1 ]; then
  # Something was learned: on the utterances it was fine-tuned on, each model's greedy output is
  # mostly non-empty and well below 100 % UER (all-empty hypotheses score exactly 100 %, which
  # "LM WER <= greedy WER" alone would let pass). Bounds: docs/recipes.md (measured quick runs).
  max_train_uer=75
  for init in pretrained scratch; do
    d="$workdir/decode/${init}_viterbi_train"
    [ -s "$d/summary.txt" ] || fail "missing $d/summary.txt"
    train_uer=$(summary_uer "$d/summary.txt")
    [ -n "$train_uer" ] || fail "no UER in $d/summary.txt"
    hyps="$d/hypo.word-checkpoint_best.pt-train.txt"
    [ -s "$hyps" ] || fail "missing $hyps"
    total=$(wc -l < "$hyps")
    nonempty=$(sed 's/ (None-[0-9]*)$//' "$hyps" | grep -c '[^[:space:]]' || true)
    echo "report: finetune_$init on its training utterances: greedy UER $train_uer %, $nonempty of $total hypotheses non-empty"
    awk -v u="$train_uer" -v m="$max_train_uer" 'BEGIN{exit !(u < m)}' \
      || fail "finetune_$init did not learn: greedy UER on its training utterances is $train_uer % (must be < $max_train_uer %)"
    [ $((nonempty * 10)) -ge $((total * 9)) ] \
      || fail "finetune_$init: only $nonempty of $total hypotheses on its training utterances are non-empty"
  done
  awk -v lm="${wer[pretrained,lexicon]}" -v g="${wer[pretrained,viterbi]}" 'BEGIN{exit !(lm <= g)}' \
    || fail "LM decoding (${wer[pretrained,lexicon]} % WER) is worse than greedy (${wer[pretrained,viterbi]} %)"
  selftrain_rows=$(($(wc -l < "$workdir/selftrain/train.tsv") - 1))
  [ "$selftrain_rows" = $((labeled_utts + pseudo_kept)) ] \
    || fail "selftrain/train.tsv has $selftrain_rows rows, expected $labeled_utts labeled + $pseudo_kept pseudo-labeled"
  [ "$(wc -l < "$workdir/selftrain/train.ltr")" = "$selftrain_rows" ] || fail "selftrain/train.ltr is not aligned with train.tsv"
  echo "report: quick run OK: every stage produced its files and numbers; both models fit their training utterances (UER < $max_train_uer %, >= 90 % non-empty); LM WER <= greedy WER; self-training split of $selftrain_rows rows"
fi
