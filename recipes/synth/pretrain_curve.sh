#!/usr/bin/env bash
# The pretraining learning curve: pretrains the main job's model (configs/synth/pretrain.yaml)
# on a synthetic corpus for a fixed wall-clock budget and plots valid contrastive accuracy,
# loss and prob_perplexity.
#   recipes/synth/pretrain_curve.sh CORPUS_DIR OUT_DIR [--minutes M (20)] [--threads N]
# CORPUS_DIR is a corpus made by recipes/synth/run.sh (e.g. runs/synth/corpus). Writes
# OUT_DIR/train.log.jsonl, checkpoints and OUT_DIR/pretraining.png; prints first and last valid
# accuracy and the last prob_perplexity. Training stops at the time budget
# (optimization.stop_time_hours) or after 6 000 updates, whichever comes first (an idle
# 2-core machine does about 5 updates per second).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ $# -lt 2 ] || [[ "$1" == -* ]]; then
  sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
corpus="$(cd "$1" && pwd)"
out="$2"
shift 2
minutes=20
threads=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "pretrain_curve.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
build_dir="${W2V_BUILD_DIR:-build}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
. "$here/lib.sh"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
workers=$((threads < 4 ? threads : 4))
"$build_dir/w2v" train --config "$repo/configs/synth/pretrain.yaml" --threads $((threads / workers)) \
  distributed_training.distributed_world_size="$workers" task.data="$corpus" checkpoint.save_dir="$out" \
  optimization.max_update=6000 lr_scheduler.warmup_updates=300 \
  optimization.stop_time_hours="$(awk -v m="$minutes" 'BEGIN{print m / 60}')" | tee -a "$out/train.log.jsonl"

jsonl_columns "$out/train.log.jsonl" train_inner num_updates loss accuracy prob_perplexity wall > "$out/train.dat"
jsonl_columns "$out/train.log.jsonl" valid num_updates valid_loss valid_accuracy > "$out/valid.dat"
updates=$(tail -n 1 "$out/train.dat" | awk '{print $1}')
wall_minutes=$(tail -n 1 "$out/train.dat" | awk '{printf "%.1f", $5 / 60}')
plot_pretraining "$out/train.dat" "$out/valid.dat" \
  "wav2vec 2.0 pretraining: $updates updates in $wall_minutes min on $threads cores" \
  "$out/pretraining.png"
echo "pretrain_curve: $updates updates in $wall_minutes min;" \
  "valid accuracy $(head -n 1 "$out/valid.dat" | awk '{print $3}') -> $(tail -n 1 "$out/valid.dat" | awk '{print $3}');" \
  "prob_perplexity $(tail -n 1 "$out/train.dat" | awk '{print $4}') of 640"
