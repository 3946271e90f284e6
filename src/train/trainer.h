// fairseq's training loop for wav2vec 2.0 pre-training (`wav2vec2` + `wav2vec` criterion) and
// CTC fine-tuning (`wav2vec_ctc` + `ctc`), driven by a config::Config in fairseq's layout.
// Contract: one update = update_freq batches whose summed gradients are divided by their summed
// sample_size, optionally clipped, then one Adam step; masks, negatives, dropout and Gumbel
// noise are seeded from (common.seed, update count), batches from (seed, epoch), so a run
// resumed from checkpoint_last.pt continues exactly as an uninterrupted one.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>

#include "config/config.h"
#include "train/validation_decoder.h"

namespace w2v::train {

struct TrainSummary {
  int64_t num_updates = 0;
  int64_t epoch = 0;
  int64_t skipped_updates = 0;  // non-finite loss or gradient
  double best = 0;              // best validation value of checkpoint.best_checkpoint_metric
};

struct TrainerOptions {
  // Builds validation's LM decoder when criterion.wer_kenlm_model is set (`w2v train` passes
  // one made with src/decode); a config that sets it is an error without one.
  WordDecoderFactory make_lm_decoder;
};

class Trainer {
 public:
  // Builds model, data, optimizer and schedule, resuming from save_dir/restore_file when it
  // exists. `log` receives one JSON object per line (train_inner, train, valid records); the
  // same records go to TensorBoard event files under common.tensorboard_logdir/<tag>/ when set,
  // and a progress bar to stderr when it is a terminal (unless common.no_progress_bar).
  Trainer(const config::Config& cfg, std::ostream& log, TrainerOptions options = {});
  ~Trainer();
  TrainSummary train();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace w2v::train
