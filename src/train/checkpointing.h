// Training checkpoints in fairseq's layout: which files a save point writes
// (checkpoint<epoch>.pt, checkpoint_<epoch>_<updates>.pt, checkpoint_best.pt,
// checkpoint_last.pt), their rotation, the optimizer state, and resuming from restore_file so
// that the run continues exactly where the saved one stood.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "checkpoint/model_io.h"
#include "train/adam.h"
#include "train/train_config.h"

namespace w2v::train {

// Where training stands: what a checkpoint keeps besides weights and optimizer state.
struct TrainState {
  int64_t num_updates = 0, epoch = 1;  // epoch is 1-based, as fairseq's
  int64_t iterations_in_epoch = 0;     // batches of this epoch already consumed
  int64_t skipped = 0;                 // updates skipped for a non-finite loss or gradient
  bool has_best = false;
  double best = 0;  // best validation value of checkpoint.best_checkpoint_metric
};

// Copies every tensor of `from` into the same-named one of `to`; names missing in `from` are
// an error unless `allow_missing`, shape mismatches always. `where` names `from` in errors.
void copy_state(torch::nn::Module& from, torch::nn::Module& to, const std::string& where, bool allow_missing);

class Checkpointer {
 public:
  // `cfg_tree` is the run's config as the checkpoints' "cfg" (its model section is written from
  // the model itself); `criterion_name` is fairseq's class name.
  Checkpointer(CheckpointSettings settings, UpdateSettings update, ckpt::Value cfg_tree, std::string criterion_name);

  struct Resumed {
    std::string path;
    bool had_optimizer_state = false;  // false: Adam starts afresh
  };
  // Loads restore_file into `model`, `adam` and `state` when the file exists (as fairseq:
  // dataloader position unless reset_dataloader, optimizer unless reset_optimizer).
  std::optional<Resumed> resume(ckpt::LoadedModel& model, Adam& adam, TrainState& state) const;

  // The files of this save point (none with no_save), then old epoch/update files removed as
  // keep_last_epochs / keep_interval_updates say.
  void save(const ckpt::LoadedModel& model, const Adam& adam, const TrainState& state, bool end_of_epoch,
            bool is_best) const;
  // Whether a save writes checkpoint_last.pt (for the error that ends a diverged run).
  bool saves_last() const { return !settings_.no_save && !settings_.no_last_checkpoints; }

 private:
  ckpt::Value optimizer_state(const Adam& adam) const;
  static void load_optimizer_state(Adam& adam, const ckpt::Value& state, const std::string& where);

  CheckpointSettings settings_;
  UpdateSettings update_;
  ckpt::Value cfg_;
  std::string criterion_name_;
};

}  // namespace w2v::train
