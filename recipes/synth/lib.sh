# Shell helpers shared by recipes/synth/report.sh and recipes/synth/pretrain_curve.sh.
# Source it; it defines functions only.

# jsonl_columns FILE TAG KEY...: one line per JSON record with "tag":"TAG", the KEYs' values
# (records lacking a key are skipped; a record repeated at the same update is printed once).
# The trainer writes compact JSON, one object per line.
jsonl_columns() {
  local file="$1" tag="$2"
  shift 2
  grep "\"tag\":\"$tag\"" "$file" | uniq | while IFS= read -r line; do
    local row=() key value
    for key in "$@"; do
      value=$(sed -n "s/.*\"$key\":\(-\{0,1\}[0-9][0-9.e+-]*\).*/\1/p" <<<"$line")
      [ -n "$value" ] || continue 2
      row+=("$value")
    done
    echo "${row[*]}"
  done
}

# plot_pretraining TRAIN_DAT VALID_DAT TITLE PNG: loss, accuracy and prob_perplexity curves from
# jsonl_columns output (train: num_updates loss accuracy prob_perplexity; valid: num_updates
# valid_loss valid_accuracy). Needs gnuplot.
plot_pretraining() {
  gnuplot <<GNUPLOT
set terminal pngcairo size 1200,400 font ",10"
set output "$4"
set multiplot layout 1,3 title "$3"
set xlabel "updates"
set title "contrastive loss (bits)"
plot "$1" using 1:2 with lines title "train", "$2" using 1:2 with linespoints title "valid"
set title "contrastive accuracy"
plot "$1" using 1:3 with lines title "train", "$2" using 1:3 with linespoints title "valid"
set title "prob perplexity (max 640)"
plot "$1" using 1:4 with lines notitle
unset multiplot
GNUPLOT
}

# voice_group_error CORPUS DECODE_DIR GROUP KIND: the error rate of a `w2v infer` test decoding
# (DECODE_DIR/{ref,hypo}.KIND-*-test.txt) on the rows of one voice group: GROUP "unseen" (the
# test-only voices of CORPUS/voices.txt) or "seen"; KIND "word" (WER) or "units" (UER). Scored
# by `w2v wer` ($W2V, default w2v on PATH), as w2v infer scores the whole split.
voice_group_error() {
  local corpus="$1" dir="$2" group="$3" kind="$4"
  local ids
  ids=$(awk -F'\t' -v unseen=$([ "$group" = unseen ] && echo 1 || echo 0) '
    FILENAME == ARGV[1] { held[$1] = ($2 == "test-only"); next }
    FILENAME == ARGV[2] { if (FNR > 1) voice_held[$1] = held[$3]; next }
    FNR > 1 { id = $1; sub(/\.wav$/, "", id); sub(/.*\//, "", id); if (voice_held[id] == unseen) print "(None-" (FNR - 2) ")" }' \
    "$corpus/voices.txt" "$corpus/utterances.tsv" "$corpus/test.tsv")
  local keep='NR == FNR { keep[$1] = 1; next } keep[$NF]'
  "${W2V:-w2v}" wer <(awk "$keep" <(echo "$ids") "$dir"/ref."$kind"-*-test.txt) \
    <(awk "$keep" <(echo "$ids") "$dir"/hypo."$kind"-*-test.txt) | sed -n 's/^WER: \([0-9.]*\) %.*/\1/p'
}
