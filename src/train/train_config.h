// The trainer's settings, read from a config::Config once and checked before training starts:
// the update loop reads these typed fields, never a string key. Model and criterion settings
// belong to the task (train/task.h), which reads them when it builds its model.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace w2v::train {

// When training stops (fairseq's optimization.* and checkpoint.patience); 0 = no limit.
struct StopSettings {
  int64_t max_update = 0, max_epoch = 0, patience = 0;
  double stop_time_hours = 0, stop_min_lr = -1;
};

// One update: update_freq[epoch - 1] batches (the last entry for later epochs), summed, clipped
// to clip_norm (0: no clipping), then one Adam step.
struct UpdateSettings {
  std::vector<int64_t> update_freq{1};
  double clip_norm = 0;
  bool skip_remainder_batch = false;
  std::array<double, 2> adam_betas{0.9, 0.999};
  double adam_eps = 1e-8, weight_decay = 0;
};

struct CheckpointSettings {
  std::string save_dir, restore_file, suffix;
  bool no_save = false, no_epoch_checkpoints = false, no_last_checkpoints = false;
  bool no_save_optimizer_state = false, reset_optimizer = false, reset_dataloader = false;
  int64_t save_interval = 1, save_interval_updates = 0;
  int64_t keep_last_epochs = -1, keep_interval_updates = -1;
  std::string best_metric = "loss";
  bool maximize_best = false;
};

struct ValidationSettings {
  std::vector<std::string> subsets;  // empty: no validation (dataset.disable_validation)
  int64_t interval = 1, interval_updates = 0, after_updates = 0;
  int64_t max_steps = 0;  // batches per subset; 0 = all
};

struct LogSettings {
  int64_t log_interval = 100;
  std::string tensorboard_logdir;  // empty: no event files
  bool progress_bar = true;
};

// Where the data is and how it is batched (fairseq's task.* and dataset.*).
struct DataSettings {
  std::string dir, labels, train_subset;  // labels empty: pre-training (no targets)
  data::DatasetOptions dataset;
  data::LoaderOptions train, valid;  // rank / world_size filled in by the trainer
};

struct TrainSettings {
  bool pretraining = false;  // model wav2vec2 + criterion wav2vec; else wav2vec_ctc + ctc
  uint64_t seed = 1;
  int64_t world_size = 1;  // distributed_training.distributed_world_size
  StopSettings stop;
  UpdateSettings update;
  CheckpointSettings checkpoint;
  ValidationSettings validation;
  LogSettings log;
  DataSettings data;
  // Keys set to values w2v does not implement (accepted because fairseq's configs set them),
  // one "warning: ..." line each.
  std::vector<std::string> warnings;
};

// Reads and checks every trainer setting (config::check_ranges included); errors name the key.
TrainSettings read_train_settings(const config::Config& cfg);

}  // namespace w2v::train
