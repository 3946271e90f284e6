// What the trainer trains: fairseq's task + model + criterion as one object. Pre-training
// (wav2vec2 + wav2vec criterion) and CTC fine-tuning (wav2vec_ctc + ctc) are the two tasks; the
// update loop (train/trainer.cpp) only sees this interface: batch -> loss and logging outputs,
// summed logging outputs -> logged values.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "checkpoint/model_io.h"
#include "config/config.h"
#include "data/loader.h"
#include "train/contrastive_criterion.h"
#include "train/masking.h"
#include "train/random.h"
#include "train/train_config.h"
#include "train/validation_decoder.h"
#include "util/progress.h"

namespace w2v::train {

// Logged values by name (the keys of a JSON record and of TensorBoard scalars).
using Stats = std::map<std::string, double>;

class Task {
 public:
  virtual ~Task() = default;

  ckpt::LoadedModel& model() { return model_; }
  const ckpt::LoadedModel& model() const { return model_; }
  // fairseq's criterion class name, as checkpoints record it in optimizer_history.
  virtual const char* criterion_name() const = 0;
  // Annealing (Gumbel temperature, freeze_finetune_updates) follows the update count.
  virtual void set_num_updates(int64_t num_updates) = 0;

  // One batch: the summed loss to backward and its logging outputs. `training` draws the
  // training masks from `rng` (pre-training masks validation batches too, as fairseq).
  virtual CriterionResult loss(const data::Batch& batch, Rng& rng, bool training) = 0;
  // One validation batch (no gradient): the loss's logging outputs plus the task's error counts.
  virtual LoggingOutput valid_step(const data::Batch& batch, Rng& rng) = 0;

  // The task's values of a train_inner/train record from summed logging outputs (the trainer
  // adds loss, bsz, lr, gnorm and timings).
  virtual Stats train_stats(LoggingOutput sums) const = 0;
  // The task's values of a valid record besides loss.
  virtual Stats valid_stats(LoggingOutput sums) const = 0;
  // Values the progress bar shows after `loss` for one update's logging outputs.
  virtual void add_progress(const LoggingOutput&, ProgressStats&) const {}
  // A warning about a train_inner record's values (e.g. a collapsing codebook), or "".
  virtual std::string check(const Stats&) const { return ""; }

  // fairseq's time and channel masks of the encoder's input features.
  struct Masks {
    MaskOptions time, channel;
    // Time mask [B, T] and channel mask [B, D] (each undefined when its probability is 0).
    void draw(const ckpt::LoadedModel& m, const data::Batch& batch, Rng& rng, torch::Tensor& time_mask,
              torch::Tensor& channel_mask) const;
  };
  // Reads model.mask_* as fairseq's apply_mask passes them (errors name unsupported values).
  static Masks read_masks(const config::Config& cfg);

 protected:
  ckpt::LoadedModel model_;
  Masks masks_;
};

// The task of model._name, its model built (fine-tuning: loaded from model.w2v_path) with
// torch's global generator as it stands. `make_lm_decoder` builds CTC validation's LM decoder
// when criterion.wer_kenlm_model is set (an error without one). Errors name the key.
std::unique_ptr<Task> make_task(const config::Config& cfg, const TrainSettings& settings,
                                const WordDecoderFactory& make_lm_decoder);
// The two tasks make_task chooses from (train/pretraining_task.cpp, train/ctc_task.cpp).
std::unique_ptr<Task> make_pretraining_task(const config::Config& cfg);
std::unique_ptr<Task> make_ctc_task(const config::Config& cfg, const TrainSettings& settings,
                                    const WordDecoderFactory& make_lm_decoder);

}  // namespace w2v::train
