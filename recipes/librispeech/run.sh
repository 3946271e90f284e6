#!/usr/bin/env bash
# wav2vec 2.0 BASE on LibriSpeech, fairseq's examples/wav2vec README as w2v commands:
# manifests + letter labels + dictionary -> pre-training -> CTC fine-tuning on train-clean-100
# -> 4-gram LM + lexicon -> greedy and 4-gram decoding of test-clean / test-other.
#   recipes/librispeech/run.sh [--librispeech DIR] [--workdir DIR] [--threads N] [--tiny]
#       [--pt KEY=VALUE]... [--ft KEY=VALUE]... [--lm-arg ARG]... [--lm-arpa FILE]
#       [--beam N] [--lm-weight W] [--word-score S] [--valid-percent P] [--stop-after STAGE]
# --librispeech (or $LIBRISPEECH): the LibriSpeech folder with train-clean-100, dev-other,
#   test-clean, test-other (+ train-clean-360, train-other-500: pre-training uses every train-*
#   folder) and optionally librispeech-lm-norm.txt.gz (else the LM is built from train-clean-100's
#   transcripts; --lm-arpa FILE uses a ready ARPA such as openslr's 4-gram.arpa.gz instead).
# --pt / --ft: extra overrides for pre-training / fine-tuning (fairseq hydra syntax), after the
#   recipe's own. --lm-arg: extra `w2v lm build` option. --tiny: a toy-sized model and a few
#   updates, for checking the recipe on a small tree (tests/recipes/test_librispeech_recipe.sh).
# Stages: data, pretrain, finetune, lm, decode; each is skipped when its marker
# WORKDIR/.done.STAGE exists, so running again resumes (delete a marker to redo a stage).
# Results: WORKDIR/results.md (WER per subset and decoder, with the paper's numbers).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

librispeech="${LIBRISPEECH:-}"
workdir="$repo/runs/librispeech"
threads=0
tiny=0
pt_extra=()
ft_extra=()
lm_extra=()
lm_arpa=""
beam=500
lm_weight=2
word_score=-1
valid_percent=0.01
stop_after=""
while [ $# -gt 0 ]; do
  case "$1" in
    --librispeech) librispeech="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --tiny) tiny=1; shift ;;
    --pt) pt_extra+=("$2"); shift 2 ;;
    --ft) ft_extra+=("$2"); shift 2 ;;
    --lm-arg) lm_extra+=("$2"); shift 2 ;;
    --lm-arpa) lm_arpa="$2"; shift 2 ;;
    --beam) beam="$2"; shift 2 ;;
    --lm-weight) lm_weight="$2"; shift 2 ;;
    --word-score) word_score="$2"; shift 2 ;;
    --valid-percent) valid_percent="$2"; shift 2 ;;
    --stop-after) stop_after="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$stop_after" in ""|data|pretrain|finetune|lm|decode) ;;
  *) echo "run.sh: --stop-after must be data, pretrain, finetune, lm or decode" >&2; exit 2 ;; esac
[ -n "$librispeech" ] || { echo "run.sh: set LIBRISPEECH=/path/to/LibriSpeech or pass --librispeech" >&2; exit 2; }
librispeech="$(cd "$librispeech" && pwd)"
for split in train-clean-100 dev-other test-clean test-other; do
  [ -d "$librispeech/$split" ] || { echo "run.sh: $librispeech/$split is missing" >&2; exit 2; }
done

# W2V_SKIP_SETUP=1: the caller has built already (the ctest entry).
[ "${W2V_SKIP_SETUP:-0}" = 1 ] || "$repo/scripts/setup.sh"
build_dir="${W2V_BUILD_DIR:-build}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
w2v="$build_dir/w2v"
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
data="$workdir/data"          # fine-tuning/decoding: train, dev_other, test_clean, test_other
ptdata="$workdir/data/pretrain"  # pre-training: every train-* folder, 1 % held out as valid
lmdir="$workdir/lm"

# --tiny: the same commands with a toy model (standard 320-sample stride, 32 channels, one
# 32-wide transformer layer), no emulated GPUs, a few updates and a small beam. The LM text is
# tiny too, so Kneser-Ney needs the fallback discounts.
pt_tiny=()
ft_tiny=()
if [ "$tiny" = 1 ]; then
  [ "$valid_percent" = 0.01 ] && valid_percent=0.25
  [ "$beam" = 500 ] && beam=20
  common=(distributed_training.distributed_world_size=1 optimization.update_freq=[1]
          dataset.num_workers=0 common.log_interval=1)
  pt_tiny=("${common[@]}" optimization.max_update=2 lr_scheduler.warmup_updates=1
           task.min_sample_size=4000 dataset.max_tokens=400000
           "model.conv_feature_layers='[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2'"
           model.extractor_mode=layer_norm model.conv_bias=true
           model.encoder_layers=1 model.encoder_embed_dim=32 model.encoder_ffn_embed_dim=64
           model.encoder_attention_heads=2 model.conv_pos=8 model.conv_pos_groups=4
           model.final_dim=16 model.latent_vars=16 model.num_negatives=10)
  ft_tiny=("${common[@]}" optimization.max_update=2 model.mask_channel_length=4
           model.mask_length=2 dataset.max_tokens=400000)
  lm_extra=(--discount-fallback "${lm_extra[@]}")
fi

log() { printf '\n== %s ==\n' "$*" >&2; }
done_stage() { [ -f "$workdir/.done.$1" ]; }
mark_done() { touch "$workdir/.done.$1"; [ "$stop_after" != "$1" ] || { log "stopping after $1"; exit 0; }; }

if ! done_stage data; then
  log "data: manifests, letter labels (libri_labels.py), dictionary"
  mkdir -p "$data" "$ptdata"
  # Pre-training audio, as fairseq's README: all training audio, valid_percent 0.01.
  "$w2v" manifest "$librispeech" --dest "$ptdata" --ext flac --valid-percent "$valid_percent" \
    --path-must-contain /train-
  for split in train-clean-100:train dev-other:dev_other test-clean:test_clean test-other:test_other; do
    src="${split%%:*}" name="${split##*:}"
    # fairseq's `wav2vec_manifest.py SRC --valid-percent 0` written as NAME.tsv
    "$w2v" manifest "$librispeech/$src" --dest "$data" --name "$name" --ext flac
    "$w2v" labels "$data/$name.tsv" --transcripts "$librispeech/$src"
  done
  "$w2v" dict "$data/train.ltr" -o "$data/dict.ltr.txt"
  mark_done data
fi

# train NAME CONFIG OVERRIDES...: w2v train, JSON log lines kept in WORKDIR/NAME/train.log.jsonl.
train() {
  local name="$1" config="$2"
  shift 2
  mkdir -p "$workdir/$name"
  "$w2v" train --config "$config" --threads "$threads" checkpoint.save_dir="$workdir/$name" "$@" \
    | tee -a "$workdir/$name/train.log.jsonl"
}

if ! done_stage pretrain; then
  # Paper: 400k updates, 64 V100 GPUs, 1.6 days. distributed_world_size=64 is emulated by
  # accumulating 64 batches per update when this machine has fewer cores.
  log "pre-training wav2vec 2.0 BASE (configs/pretraining/wav2vec2_base_librispeech.yaml)"
  train pretrain "$repo/configs/pretraining/wav2vec2_base_librispeech.yaml" task.data="$ptdata" \
    "${pt_tiny[@]}" "${pt_extra[@]}"
  mark_done pretrain
fi

if ! done_stage finetune; then
  # Paper: 80k updates (2 GPUs x update_freq 4), validation WER on dev_other picks the best.
  log "CTC fine-tuning on train-clean-100 (configs/finetuning/base_100h.yaml)"
  train finetune "$repo/configs/finetuning/base_100h.yaml" task.data="$data" \
    model.w2v_path="$workdir/pretrain/checkpoint_best.pt" "${ft_tiny[@]}" "${ft_extra[@]}"
  mark_done finetune
fi

if ! done_stage lm; then
  mkdir -p "$lmdir"
  if [ -n "$lm_arpa" ]; then
    log "4-gram LM: using $lm_arpa"
    src_arpa="$lm_arpa"
  else
    lm_text="$librispeech/librispeech-lm-norm.txt.gz"
    if [ ! -f "$lm_text" ]; then
      # No LM corpus: the fine-tuning transcripts (upper case, like the lexicon). Far weaker
      # than the 800M-word LibriSpeech LM corpus the paper's numbers assume.
      lm_text="$data/train.wrd"
    fi
    log "4-gram LM on $lm_text (lmplz -o 4; 200k-word vocabulary as LibriSpeech's own 4-gram)"
    "$w2v" lm build --order 4 --vocab-limit 200000 "${lm_extra[@]}" "$lm_text" -o "$lmdir/4-gram.arpa"
    src_arpa="$lmdir/4-gram.arpa"
  fi
  "$w2v" lm compile "$src_arpa" -o "$lmdir/4-gram.bin"
  "$w2v" lexicon --lm "$lmdir/4-gram.bin" --dict "$data/dict.ltr.txt" -o "$lmdir/lexicon.txt"
  mark_done lm
fi

# Paper, Table 1 (BASE, LS-960 unlabeled, 100 h labeled), test-clean / test-other WER.
paper() {
  case "$1:$2" in
    test_clean:viterbi) echo 6.1 ;; test_other:viterbi) echo 13.3 ;;
    test_clean:lexicon) echo 3.4 ;; test_other:lexicon) echo 8.0 ;;
  esac
}

if ! done_stage decode; then
  for subset in test_clean test_other; do
    for decoder in viterbi lexicon; do
      out="$workdir/decode/${subset}_$decoder"
      mkdir -p "$out"
      args=(--decoder "$decoder")
      [ "$decoder" = viterbi ] || args+=(--lexicon "$lmdir/lexicon.txt" --lm "$lmdir/4-gram.bin"
                                         --beam "$beam" --lm-weight "$lm_weight" --word-score "$word_score")
      log "decoding $subset, $decoder (paper: $(paper "$subset" "$decoder") % WER)"
      "$w2v" infer "$data" --subset "$subset" --path "$workdir/finetune/checkpoint_best.pt" \
        --results-path "$out" --threads "$threads" "${args[@]}" | tee "$out/summary.txt"
    done
  done
  mark_done decode
fi

{
  echo "| subset | decoder | WER % | paper (BASE, 100 h labeled) |"
  echo "|---|---|---|---|"
  for subset in test_clean test_other; do
    for decoder in viterbi lexicon; do
      wer=$(sed -n 's/.*WER: \([0-9.]*\) %.*/\1/p' "$workdir/decode/${subset}_$decoder/summary.txt" | head -n 1)
      name=$decoder; [ "$decoder" = viterbi ] || name="4-gram (beam $beam)"
      echo "| $subset | $name | $wer | $(paper "$subset" "$decoder") |"
    done
  done
} > "$workdir/results.md"
cat "$workdir/results.md"
