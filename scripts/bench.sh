#!/usr/bin/env bash
# Runs w2v's benchmarks, each beside its Python reference in the same run, and prints their
# timings and ratios (record them in docs/BENCHMARKS.md with date, machine and threads).
#   scripts/bench.sh [ENTRY...]     entries: model lm decode decode_synth data train train_base
#                                   (default: all)
#   W2V_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${W2V_BUILD_DIR:-build}
[ -f "$BUILD_DIR/build.ninja" ] || cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release

# bench TARGET ARGS...: builds bench/<area>/TARGET and runs it.
bench() {
  local target=$1
  shift
  cmake --build "$BUILD_DIR" --target "$target" >/dev/null
  "$BUILD_DIR/bench/${target#bench_}/$target" "$@"
}

# ONNX Runtime, the second inference reference: its CPU library ships inside the npm package
# onnxruntime-node (--ignore-scripts: its install script only fetches GPU libraries).
ORT_VERSION=1.20.1
ort_dir() {
  local dir=$BUILD_DIR/ort
  if ! [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ORT_VERSION" >&2
  fi
  echo "$dir"
}

entry_model() {
  # BASE CTC forward, 2 threads: w2v stock (LibTorch's default kernels) and prepared fp32 / bf16
  # / int8 (--precision, docs/inference.md) run interleaved, beside torchaudio fp32 and ONNX
  # Runtime fp32 (the same weights exported by torch.onnx.export) in the same run; each
  # precision's logit error and greedy agreement vs fp32. 10 s, 60 s, a batch of 4, and LARGE.
  local ort
  ort=$(ort_dir)
  [ -z "${OPENBLAS_CORETYPE:-}" ] || echo "model: note: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set: OpenBLAS runs those kernels, not its own choice"
  local refs=(--reference torchaudio,onnxruntime --ort-dir "$ort")
  echo "model: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  bench bench_model --seconds 10 --threads 2 --repeats 5 --precision fp32,bf16,int8 "${refs[@]}"
  bench bench_model --seconds 60 --threads 2 --repeats 3 --precision fp32,bf16,int8 "${refs[@]}"
  bench bench_model --seconds 10 --batch 4 --threads 2 --repeats 3 --precision fp32,bf16,int8 "${refs[@]}"
  bench bench_model --preset large_lv --seconds 10 --threads 2 --repeats 3 --precision fp32,bf16,int8 "${refs[@]}"
  echo "model: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

entry_lm() {
  # n-gram LM, one thread: 4-gram build on a 5 MB synthetic corpus (time, peak memory), query
  # lookups/s for the ARPA-loaded and the binary model, and build CPU time on 1 MB beside
  # tools/oracle/ngram_ref.py.
  local dir ours ref
  dir=$(mktemp -d)
  bench bench_lm generate 5 "$dir/c5.txt"
  bench bench_lm build "$dir/c5.txt" 4 "$dir/c5.arpa"
  bench bench_lm query "$dir/c5.arpa" 5
  head -c 1000000 "$dir/c5.txt" | sed '$d' >"$dir/c1.txt"
  ours=$(bench bench_lm build "$dir/c1.txt" 4 "$dir/c1.arpa" | sed -n 's/.*cpu_seconds=\([0-9.]*\).*/\1/p')
  ref=$( { TIMEFORMAT='%U %S'; time /usr/bin/python3 tools/oracle/ngram_ref.py build "$dir/c1.txt" "$dir/ref.arpa" \
           --order 4 --discount-fallback >/dev/null 2>&1; } 2>&1 | awk '{ print $1 + $2 }')
  echo "lm: 1 MB 4-gram build CPU seconds: w2v $ours, Python reference $ref" \
       "($(awk -v a="$ref" -v b="$ours" 'BEGIN { printf "%.1f", a / b }')x)"
  rm -rf "$dir"
}

entry_decode() {
  # CTC decoders on synthetic LibriSpeech-like letter emissions (V 32, 5k-word lexicon, KN word
  # 4-gram / letter 6-gram built by w2v): greedy, lexicon beam 50 and 500, lexicon-free beam 50;
  # one thread (frames per CPU second) and two. No Python reference: torchaudio 0.13's
  # ctc_decoder needs flashlight, which Debian does not package.
  bench bench_decode --seconds 15 --utterances 8 --threads 2 --beams 50,500
}

entry_decode_synth() {
  # The decoders on real emissions: the main job's fine-tuned model (W2V_SYNTH_DIR, default
  # runs/synth, made by recipes/synth/run.sh) on its test split, emissions computed once, then
  # greedy and lexicon beam 50 / 500 with the main job's 4-gram (w2v lm build) and lexicon, on
  # 1 and 2 threads. Prints w2v infer's summary: WER and "decoding alone" x-realtime.
  local synth=${W2V_SYNTH_DIR:-runs/synth} dir ckpt threads beam
  ckpt="$synth/finetune_pretrained/checkpoint_best.pt"
  [ -f "$ckpt" ] || { echo "decode_synth: no $ckpt; run recipes/synth/run.sh first" >&2; return 1; }
  dir=$(mktemp -d)
  cmake --build "$BUILD_DIR" --target w2v >/dev/null
  "$BUILD_DIR/w2v" infer "$synth/corpus" --subset test --path "$ckpt" --threads 0 \
    --dump-emissions "$dir/emissions.bin" >/dev/null
  for threads in 1 2; do
    echo "decode_synth: viterbi, $threads thread(s)"
    "$BUILD_DIR/w2v" infer "$synth/corpus" --subset test --load-emissions "$dir/emissions.bin" \
      --threads "$threads" | grep -E "WER|Processed"
    for beam in 50 500; do
      echo "decode_synth: lexicon beam $beam, $threads thread(s)"
      "$BUILD_DIR/w2v" infer "$synth/corpus" --subset test --load-emissions "$dir/emissions.bin" \
        --threads "$threads" --decoder lexicon --lexicon "$synth/lm/lexicon.txt" --lm "$synth/lm/lm.bin" \
        --beam "$beam" --lm-weight 2 --word-score -1 | grep -E "WER|Processed"
    done
  done
  rm -rf "$dir"
}

entry_data() {
  # Loader throughput (seconds of audio per second): audio::read alone and the prefetching
  # Loader (pretraining crops, max_tokens 1.4 M) with 0/1/2 workers, wav and flac; then
  # torchaudio.load on the same files.
  local dir
  dir=$(mktemp -d)
  bench bench_data "$dir" --files 120 --seconds 12
  /usr/bin/python3 bench/data/loader_ref.py "$dir"
  rm -rf "$dir"
}

entry_train() {
  # CTC fine-tuning throughput, one thread: a 1.5 M-parameter wav2vec 2.0 (7-layer 128-channel
  # conv stack with layer norm and bias, 4 x 144 encoder) pre-trained for one update, then
  # fine-tuned with configs/finetuning/base_100h.yaml on 4 s tone utterances, 4 per update;
  # seconds of audio per CPU second after 2 warm-up updates, beside torchaudio's model
  # (tools/oracle/train_bench.py, no masking) on the same batches.
  local dir w2v
  dir=$(mktemp -d)
  cmake --build "$BUILD_DIR" --target w2v >/dev/null
  w2v="$BUILD_DIR/w2v"
  /usr/bin/python3 tools/oracle/train_bench.py corpus "$dir" 16 4
  "$w2v" train --threads 1 --config configs/pretraining/wav2vec2_base_librispeech.yaml \
    "model.conv_feature_layers='[(128, 10, 5)] + [(128, 3, 2)] * 4 + [(128,2,2)] * 2'" \
    model.extractor_mode=layer_norm model.conv_bias=true model.encoder_layers=4 \
    model.encoder_embed_dim=144 model.encoder_ffn_embed_dim=576 model.encoder_attention_heads=4 \
    model.final_dim=64 task.data="$dir" task.min_sample_size=1000 dataset.max_tokens=256000 \
    distributed_training.distributed_world_size=1 optimization.max_update=1 \
    lr_scheduler.warmup_updates=0 checkpoint.save_dir="$dir/pt" >/dev/null
  "$w2v" train --threads 1 --config configs/finetuning/base_100h.yaml task.data="$dir" \
    model.w2v_path="$dir/pt/checkpoint_last.pt" checkpoint.save_dir="$dir/ft" \
    distributed_training.distributed_world_size=1 optimization.update_freq=[1] \
    optimization.max_update=8 dataset.max_tokens=256000 dataset.disable_validation=true \
    dataset.num_workers=1 common.log_interval=1 >"$dir/ft.log" 2>/dev/null
  /usr/bin/python3 - "$dir/ft.log" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"train_inner"' in l]
a, b = lines[1], lines[-1]
audio = sum(l["bsz"] for l in lines[2:]) * 4
print(f"w2v: {audio / (b['cpu'] - a['cpu']):.2f} s of audio per CPU second, "
      f"{audio / (b['wall'] - a['wall']):.2f} per wall second (1 thread, {len(lines) - 2} updates)")
PY
  /usr/bin/python3 tools/oracle/train_bench.py run "$dir" 8 4
  rm -rf "$dir"
}

entry_train_base() {
  # One wav2vec 2.0 BASE pre-training update on 15 s of audio, 2 threads, beside a PyTorch step
  # of the same model and loss (bench/train/pretrain_base.sh).
  cmake --build "$BUILD_DIR" --target w2v >/dev/null
  bench/train/pretrain_base.sh "$BUILD_DIR/w2v" 15 2 2
}

ALL=(model lm decode decode_synth data train train_base)
ENTRIES=("$@")
((${#ENTRIES[@]})) || ENTRIES=("${ALL[@]}")
echo "w2v benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
for e in "${ENTRIES[@]}"; do
  declare -F "entry_$e" >/dev/null || { echo "bench.sh: unknown entry '$e' (known: ${ALL[*]})" >&2; exit 2; }
  "entry_$e"
done
