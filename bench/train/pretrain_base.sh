#!/usr/bin/env bash
# One wav2vec 2.0 BASE pre-training update on ~15 s of audio: `w2v train` with
# configs/pretraining/wav2vec2_base_librispeech.yaml beside the PyTorch reference
# (bench/train/pretrain_ref.py) in the same run, same threads; seconds of audio per CPU and
# per wall second after one warm-up update, and the ratios.
#   bench/train/pretrain_base.sh W2V_BINARY [SECONDS=15] [UPDATES=2] [THREADS=2]
set -euo pipefail
w2v=$1
seconds=${2:-15}
updates=${3:-2}
threads=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$here/pretrain_ref.py" corpus "$dir" "$seconds"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$w2v" train --threads "$threads" --config "$root/configs/pretraining/wav2vec2_base_librispeech.yaml" \
  task.data="$dir" checkpoint.save_dir="$dir/ckpt" checkpoint.no_save=true dataset.disable_validation=true \
  distributed_training.distributed_world_size=1 dataset.num_workers=1 common.log_interval=1 \
  optimization.max_update=$((updates + 1)) lr_scheduler.warmup_updates=1 >"$dir/w2v.log" 2>"$dir/w2v.err" || { cat "$dir/w2v.err"; exit 1; }
ours=$(/usr/bin/python3 - "$dir/w2v.log" "$seconds" "$threads" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train_inner"' in l]
seconds, threads = float(sys.argv[2]), sys.argv[3]
for l in lines:
    print(f"w2v update {l['num_updates']}: loss {l['loss']:.3f} bits, wall {l['wall']:.1f} s, cpu {l['cpu']:.1f} s",
          file=sys.stderr)
a, b = lines[0], lines[-1]
n = len(lines) - 1
print(f"{seconds * n / (b['cpu'] - a['cpu']):.3f} {seconds * n / (b['wall'] - a['wall']):.3f} {n}")
PY
)
read -r ours_cpu ours_wall n <<<"$ours"
echo "w2v: $ours_cpu s of audio per CPU second, $ours_wall per wall second ($threads threads, $n updates)"
/usr/bin/python3 "$here/pretrain_ref.py" run "$dir" "$updates" "$threads" >"$dir/ref.log"
cat "$dir/ref.log"
ref=$(tail -1 "$dir/ref.log")
ref_cpu=$(sed -n 's/^reference: \([0-9.]*\) s of audio per CPU second.*/\1/p' <<<"$ref")
ref_wall=$(sed -n 's/.*CPU second, \([0-9.]*\) per wall second.*/\1/p' <<<"$ref")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v a="$ours_cpu" -v b="$ref_cpu" -v c="$ours_wall" -v d="$ref_wall" \
  'BEGIN { printf "ratio w2v / reference: %.2f (CPU), %.2f (wall)\n", a / b, c / d }'
