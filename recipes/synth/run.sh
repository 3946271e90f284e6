#!/usr/bin/env bash
# The main job: the whole wav2vec 2.0 pipeline on a corpus this machine synthesizes itself.
#   recipes/synth/run.sh [--workdir DIR] [--quick] [--task digits|english] [--hours H]
#                        [--utterances N] [--labeled N] [--threads N] [--compare-scratch]
#                        [--no-augment]
# Stages (each skipped when its outputs exist, so a second run resumes):
#   corpus -> 4-gram LM + lexicon -> pretraining on all training audio -> CTC fine-tuning on a
#   labeled subset (--labeled utterances; the paper's low-resource setting) from the pretrained
#   model (and with --compare-scratch, or --quick, also from random init: what pretraining buys,
#   about 5 more minutes; the digits run's fine-tunings augment the audio unless --no-augment)
#   -> LM weights tuned on valid -> self-training:
#   the model + LM label the unlabeled rest, fine-tuning again on labeled + pseudo-labeled ->
#   greedy and LM decoding of the test split (held-out sentences, incl. a voice never heard in
#   training) -> plots -> results table.
# --quick (what CI runs): a tiny corpus and a few hundred fine-tuning updates, under 5 minutes;
# checks that every stage produced its files and numbers, that fine-tuning learned something
# (greedy UER on the utterances it trained on, non-empty hypotheses) and that LM decoding is not
# worse than greedy.
# --task english --hours H: the same pipeline on Jane Austen sentences, training for about H
# hours in total.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

workdir="$repo/runs/synth"
quick=0
task=digits
hours=""
utterances=""
labeled=""
threads=$(nproc)
compare_scratch=0
augment=1
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) workdir="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --task) task="$2"; shift 2 ;;
    --hours) hours="$2"; shift 2 ;;
    --utterances) utterances="$2"; shift 2 ;;
    --labeled) labeled="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --compare-scratch) compare_scratch=1; shift ;;
    --no-augment) augment=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$task" in digits|english) ;; *) echo "run.sh: --task must be digits or english" >&2; exit 2 ;; esac

# W2V_SKIP_SETUP=1: the caller has built already (the ctest entry that runs --quick).
[ "${W2V_SKIP_SETUP:-0}" = 1 ] || "$repo/scripts/setup.sh"
build_dir="${W2V_BUILD_DIR:-build}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
w2v="$build_dir/w2v"
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
export OMP_NUM_THREADS="$threads"

task_overrides=()
quick_overrides=()
augment_overrides=()
# The LM weights and word scores w2v tune tries on valid (grid), and the confidence a
# pseudo-label needs to be trained on (docs/recipes.md: how they were chosen).
tune_lm_weights=0:6:0.5; tune_word_scores=-3:6:1
min_confidence=0.8
# Stage sizes. Full digits run: 23.8 min on 2 idle cores (measured, docs/recipes.md; about 5
# more with --compare-scratch); quick: ~3 min. The labeled subset is
# a fraction of the training audio that pretraining sees whole: 200 of the digits task's 850
# training utterances are 5 minutes of speech, the paper's smallest (10-minute) split scaled to
# the corpus. With all 850 labeled, random init catches up with these few minutes of
# pretraining (docs/recipes.md).
if [ "$quick" = 1 ]; then
  # Few labeled utterances, many passes over them at a high learning rate with light masking:
  # enough for the model to fit its training utterances measurably (report.sh checks it).
  # The best checkpoint is the one with the lowest letter error: with 1 minute of labels valid
  # WER stays at or above 100 %, and selecting by it kept update 125's blank-only model over
  # update 250's (valid UER 82.6 -> 64.5 %, WER 100 -> 101.6 %) on an Intel Xeon machine.
  : "${utterances:=240}" "${labeled:=40}"
  pt_updates=40; ft_updates=250; ft_valid=125; lm_order=3
  quick_overrides=("optimization.lr=[0.003]" model.mask_prob=0.1 model.mask_channel_prob=0.0
                   checkpoint.best_checkpoint_metric=uer)
elif [ "$task" = english ]; then
  : "${utterances:=4000}" "${labeled:=800}"
  h=${hours:-1}
  # 40 % of the time pretraining, 30 % for each fine-tuning. Measured on the digits task (2
  # workers x 7.5 s batches, idle 2 cores): ~4.5 pretraining and ~5.8 fine-tuning updates per
  # second; English batches hold 4x the audio (30 s per worker), so count on a quarter of that.
  pt_updates=$(awk -v h="$h" 'BEGIN{printf "%d", h*3600*0.4*1.1}')
  ft_updates=$(awk -v h="$h" 'BEGIN{printf "%d", h*3600*0.3*1.45}')
  ft_valid=$((ft_updates / 5)); lm_order=4
  # Sentences are longer than digit strings: a worker's batch holds up to 30 s; make_corpus
  # leaves out the rare longer sentence (--max-seconds 30), which fine-tuning would crop.
  task_overrides=(dataset.max_tokens=480000 task.max_sample_size=480000)
else
  : "${utterances:=1000}" "${labeled:=200}"
  pt_updates=2000; ft_updates=1500; ft_valid=250; lm_order=4
  # Self-training's fine-tuning sees 3.6x the utterances, augmented: at 1 500 updates it was
  # still improving and behind the model that labeled its data (docs/recipes.md).
  selftrain_updates=2500
  # The loader's augmentation mix (docs/training.md) in both fine-tunings: on this run it lowered
  # the self-trained model's test LM WER and most of all the unseen voice's (docs/recipes.md,
  # measured with and without). Not in --quick: 250 updates on augmented audio stay on the blank
  # plateau.
  if [ "$augment" = 1 ]; then
    augment_overrides=("task.augment_speed=[0.9,1.0,1.1]" task.augment_noise_prob=0.3 "task.augment_noise_snr=[10,30]"
                       task.augment_reverb_prob=0.2 task.augment_band_prob=0.2 task.augment_telephone_prob=0.1)
  fi
fi

# The fine-tuned models compared on test besides the self-trained one.
inits=(pretrained)
if [ "$compare_scratch" = 1 ] || [ "$quick" = 1 ]; then inits+=(scratch); fi

[[ "$labeled" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --labeled must be a positive number of utterances" >&2; exit 2; }

# Each stage's header carries the wall time since the start, so a run's log shows where the time went.
log() { printf '\n== %s == [%d:%02d since start]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)) >&2; }
# done_stage NAME: true when the stage finished before (its marker exists).
done_stage() { [ -f "$workdir/.done.$1" ]; }
mark_done() { touch "$workdir/.done.$1"; }

corpus="$workdir/corpus"
if ! done_stage corpus; then
  log "corpus: $utterances utterances, task $task"
  rm -rf "$corpus"
  W2V="$w2v" "$repo/recipes/synth/make_corpus.sh" "$corpus" --utterances "$utterances" --task "$task" --seed 1
  mark_done corpus
fi

lmdir="$workdir/lm"
if ! done_stage lm; then
  log "language model: ${lm_order}-gram on corpus/lm.txt (test sentences excluded), lexicon"
  mkdir -p "$lmdir"
  "$w2v" lm build --order "$lm_order" --discount-fallback "$corpus/lm.txt" -o "$lmdir/lm.arpa"
  "$w2v" lm compile "$lmdir/lm.arpa" -o "$lmdir/lm.bin"
  "$w2v" lexicon --lm "$lmdir/lm.arpa" --dict "$corpus/dict.ltr.txt" -o "$lmdir/lexicon.txt"
  mark_done lm
fi

# The labeled subset: the first N training utterances (the corpus draws voice and sentence at
# random per utterance) with their labels; valid, test and the dictionary are the corpus's.
labeled_dir="$workdir/labeled"
if ! done_stage labeled; then
  rm -rf "$labeled_dir"
  mkdir -p "$labeled_dir"
  head -n $((labeled + 1)) "$corpus/train.tsv" > "$labeled_dir/train.tsv"
  for ext in ltr wrd; do head -n "$labeled" "$corpus/train.$ext" > "$labeled_dir/train.$ext"; done
  for f in valid.tsv valid.ltr valid.wrd test.tsv test.ltr test.wrd dict.ltr.txt; do
    ln -s "$corpus/$f" "$labeled_dir/$f"
  done
  mark_done labeled
fi

# The unlabeled rest of the training audio, which self-training labels with the model.
unlabeled_dir="$workdir/unlabeled"
if ! done_stage unlabeled; then
  rm -rf "$unlabeled_dir"
  mkdir -p "$unlabeled_dir"
  { head -n 1 "$corpus/train.tsv"; tail -n +$((labeled + 2)) "$corpus/train.tsv"; } > "$unlabeled_dir/train.tsv"
  ln -s "$corpus/dict.ltr.txt" "$unlabeled_dir/dict.ltr.txt"
  mark_done unlabeled
fi

# Training runs data-parallel: one single-threaded worker process per core (up to 4), each
# with a 120 000-sample (7.5 s) batch. On 2 cores this fine-tunes 1.3x faster than one process
# with 2 intra-op threads and a 15 s batch (measured: 4.1 vs 3.1 updates/s): the small model's
# ops are too short to keep two threads busy.
workers=$((threads < 4 ? threads : 4))
worker_threads=$((threads / workers))

# train NAME CONFIG DATA OVERRIDES...: w2v train on DATA with JSON logs kept in
# NAME/train.log.jsonl.
train() {
  local name="$1" config="$2" data="$3"
  shift 3
  mkdir -p "$workdir/$name"
  "$w2v" train --config "$config" --threads "$worker_threads" task.data="$data" \
    distributed_training.distributed_world_size="$workers" \
    checkpoint.save_dir="$workdir/$name" ${task_overrides[@]+"${task_overrides[@]}"} "$@" |
    tee -a "$workdir/$name/train.log.jsonl"
}

if ! done_stage pretrain; then
  log "pretraining: $pt_updates updates on the unlabeled train audio"
  train pretrain "$repo/configs/synth/pretrain.yaml" "$corpus" optimization.max_update="$pt_updates" \
    lr_scheduler.warmup_updates=$((pt_updates / 7 + 1))
  mark_done pretrain
fi

# W2V_FINETUNE_OVERRIDES="key=value ...": more overrides for every fine-tuning, e.g. the
# training-time augmentation (task.augment_*, docs/training.md).
read -ra ft_overrides <<< "${W2V_FINETUNE_OVERRIDES:-}"
# finetune NAME DATA OVERRIDES...: CTC fine-tuning of the pretrained model (same config and
# updates for every run, so that only what the arguments change differs).
finetune() {
  local name="$1" data="$2"
  shift 2
  local updates="$ft_updates"
  [ "$name" = selftrained ] && updates="${selftrain_updates:-$ft_updates}"
  train "finetune_$name" "$repo/configs/synth/finetune.yaml" "$data" \
    model.w2v_path="$workdir/pretrain/checkpoint_last.pt" optimization.max_update="$updates" \
    dataset.validate_interval_updates="$ft_valid" ${quick_overrides[@]+"${quick_overrides[@]}"} \
    ${augment_overrides[@]+"${augment_overrides[@]}"} ${ft_overrides[@]+"${ft_overrides[@]}"} "$@"
}
for init in "${inits[@]}"; do
  if ! done_stage "finetune_$init"; then
    extra=()
    # Same architecture, labels, updates and fine-tuning config; only the initial weights differ.
    [ "$init" = scratch ] && extra=(model.no_pretrained_weights=true)
    log "CTC fine-tuning from $init: $ft_updates updates on $labeled labeled utterances"
    finetune "$init" "$labeled_dir" ${extra[@]+"${extra[@]}"}
    mark_done "finetune_$init"
  fi
done

lexicon_args=(--lexicon "$lmdir/lexicon.txt" --lm "$lmdir/lm.bin" --beam 100)
# tune MODEL: the LM weight and word score with the lowest WER on the valid split for
# finetune_MODEL (w2v tune over stored emissions: the model runs once); the flags go to
# decode/tuned_MODEL.flags.
tune() {
  local out="$workdir/decode/tuned_$1"
  mkdir -p "$out"
  "$w2v" infer "$corpus" --subset valid --path "$workdir/finetune_$1/checkpoint_best.pt" --threads "$threads" \
    --dump-emissions "$out/valid.emissions" > /dev/null
  "$w2v" tune "$out/valid.emissions" --data "$corpus" --subset valid "${lexicon_args[@]}" \
    --lm-weight "$tune_lm_weights" --word-score "$tune_word_scores" --threads "$threads" -o "$out/tune.json" \
    | tee "$out/tune.txt"
  sed -n 's/^best: //p' "$out/tune.txt" > "$workdir/decode/tuned_$1.flags"
  [ -s "$workdir/decode/tuned_$1.flags" ] || { echo "run.sh: w2v tune printed no 'best:' line" >&2; exit 1; }
}

# decode INIT DECODER [SUBSET DATA]: w2v infer on the test split (or SUBSET of DATA) with
# viterbi, lexicon (LM weight 2, word score -1: a common untuned start) or tuned (lexicon with
# tune's values); prints the summary lines, keeps the files in decode/INIT_DECODER[_SUBSET].
# The model runs once per split: viterbi stores the test emissions, the LM decoders read them.
decode() {
  local init="$1" decoder="$2" subset="${3:-test}" data="${4:-$corpus}" out="$workdir/decode/$1_$2"
  local emissions="$workdir/decode/${init}_test.emissions"
  [ "$subset" = test ] || out="${out}_$subset"
  mkdir -p "$out"
  local args=(--threads "$threads")
  case "$decoder" in
    viterbi) args+=(--decoder viterbi); [ "$subset" = test ] && args+=(--dump-emissions "$emissions") ;;
    lexicon) args+=(--load-emissions "$emissions" --decoder lexicon "${lexicon_args[@]}" --lm-weight 2 --word-score -1) ;;
    tuned) read -ra flags < "$workdir/decode/tuned_$init.flags"
           args+=(--load-emissions "$emissions" --decoder lexicon "${lexicon_args[@]}" "${flags[@]}") ;;
  esac
  "$w2v" infer "$data" --subset "$subset" --path "$workdir/finetune_$init/checkpoint_best.pt" \
    --results-path "$out" "${args[@]}" | tee "$out/summary.txt"
}

# decode_all INIT: the test split with every decoder (tuning the LM first).
decode_all() {
  log "tuning the LM weight and word score of finetune_$1 on valid"
  tune "$1"
  for decoder in viterbi lexicon tuned; do
    log "decoding test with finetune_$1, $decoder"
    decode "$1" "$decoder"
  done
}

for init in "${inits[@]}"; do
  if ! done_stage "decode_$init"; then
    decode_all "$init"
    # The quick run's evidence of learning: greedy decoding of the utterances it trained on.
    if [ "$quick" = 1 ]; then
      log "decoding the labeled training utterances with finetune_$init, viterbi"
      decode "$init" viterbi train "$labeled_dir"
    fi
    mark_done "decode_$init"
  fi
done

# Self-training (Xu et al. 2021, the recipe of fairseq's wav2vec_vox_960h_pl): the fine-tuned
# model, with the tuned LM, labels the unlabeled training audio; the pretrained model is then
# fine-tuned again on the labeled and the confidently pseudo-labeled utterances together.
pseudo_dir="$workdir/pseudo"
if ! done_stage pseudo; then
  log "pseudo-labeling the $(($(wc -l < "$unlabeled_dir/train.tsv") - 1)) unlabeled utterances with finetune_pretrained + LM"
  read -ra flags < "$workdir/decode/tuned_pretrained.flags"
  rm -rf "$pseudo_dir"
  "$w2v" pseudo-label "$workdir/finetune_pretrained/checkpoint_best.pt" "$unlabeled_dir" --subset train \
    -o "$pseudo_dir" --decoder lexicon "${lexicon_args[@]}" "${flags[@]}" --min-confidence "$min_confidence" \
    --threads "$threads" | tee "$workdir/pseudo.log"
  mark_done pseudo
fi

selftrain_dir="$workdir/selftrain"
if ! done_stage selftrain_data; then
  rm -rf "$selftrain_dir"
  mkdir -p "$selftrain_dir"
  # Both manifests share the corpus's root line.
  { cat "$labeled_dir/train.tsv"; tail -n +2 "$pseudo_dir/train.tsv"; } > "$selftrain_dir/train.tsv"
  for ext in ltr wrd; do cat "$labeled_dir/train.$ext" "$pseudo_dir/train.$ext" > "$selftrain_dir/train.$ext"; done
  for f in valid.tsv valid.ltr valid.wrd test.tsv test.ltr test.wrd dict.ltr.txt; do
    ln -s "$corpus/$f" "$selftrain_dir/$f"
  done
  mark_done selftrain_data
fi

if ! done_stage finetune_selftrained; then
  log "CTC fine-tuning from pretrained on $(($(wc -l < "$selftrain_dir/train.tsv") - 1)) utterances ($labeled labeled + pseudo-labeled)"
  finetune selftrained "$selftrain_dir"
  mark_done finetune_selftrained
fi

if ! done_stage decode_selftrained; then
  decode_all selftrained
  mark_done decode_selftrained
fi

W2V="$w2v" "$repo/recipes/synth/report.sh" "$workdir" "$task" "$quick"
printf 'run.sh: finished after %d:%02d\n' $((SECONDS / 60)) $((SECONDS % 60)) >&2
