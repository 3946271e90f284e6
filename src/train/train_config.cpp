#include "train/train_config.h"

#include <algorithm>
#include <sstream>

#include "config/schema.h"
#include "util/error.h"

namespace w2v::train {

namespace {

int64_t optional_int(const config::Config& cfg, const std::string& key) {
  return cfg.is_set(key) ? cfg.integer(key) : 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A [lo, hi] range key (check_ranges has checked each value and the count).
std::array<double, 2> read_range(const config::Config& cfg, const std::string& key) {
  const std::vector<double> v = cfg.reals(key);
  if (v[0] > v[1]) {
    std::ostringstream got;
    got << "expects [low, high] with low <= high, got [" << v[0] << ", " << v[1] << "]";
    throw key_error(key, got.str());
  }
  return {v[0], v[1]};
}

data::AugmentOptions read_augment(const config::Config& cfg) {
  data::AugmentOptions a;
  if (cfg.is_set("task.augment_speed")) a.speed = cfg.reals("task.augment_speed");
  a.noise_prob = cfg.real("task.augment_noise_prob");
  a.noise_snr = read_range(cfg, "task.augment_noise_snr");
  a.reverb_prob = cfg.real("task.augment_reverb_prob");
  a.reverb_rt60 = read_range(cfg, "task.augment_reverb_rt60");
  a.band_prob = cfg.real("task.augment_band_prob");
  a.telephone_prob = cfg.real("task.augment_telephone_prob");
  return a;
}

DataSettings read_data(const config::Config& cfg, bool pretraining, uint64_t seed) {
  if (cfg.integer("task.sample_rate") != 16000)
    throw key_error("task.sample_rate", "wav2vec 2.0 models take 16000 Hz audio");
  DataSettings d;
  d.dir = cfg.text("task.data");
  d.labels = pretraining ? "" : cfg.text("task.labels");
  d.train_subset = cfg.text("dataset.train_subset");
  d.dataset.min_sample_size = optional_int(cfg, "task.min_sample_size");
  d.dataset.max_sample_size = optional_int(cfg, "task.max_sample_size");
  d.dataset.pad = !pretraining || cfg.flag("task.enable_padding");
  d.dataset.normalize = cfg.flag("task.normalize");
  data::LoaderOptions& lo = d.train;
  lo.max_tokens = optional_int(cfg, "dataset.max_tokens");
  lo.max_sentences = optional_int(cfg, "dataset.batch_size");
  if (lo.max_tokens == 0 && lo.max_sentences == 0)
    throw key_error("dataset.max_tokens", "or dataset.batch_size must be set");
  lo.required_batch_size_multiple = cfg.integer("dataset.required_batch_size_multiple");
  lo.seed = seed;
  lo.num_workers = static_cast<int>(cfg.integer("dataset.num_workers"));
  lo.prefetch = static_cast<int>(std::max<int64_t>(1, cfg.integer("dataset.data_buffer_size")));
  d.valid = lo;
  d.valid.shuffle = false;
  d.valid.num_workers = 0;
  d.valid.max_tokens = optional_int(cfg, "dataset.max_tokens_valid");
  d.valid.max_sentences = optional_int(cfg, "dataset.batch_size_valid");
  d.train.augment = read_augment(cfg);  // the train split only: validation sees the audio as it is
  return d;
}

CheckpointSettings read_checkpoint(const config::Config& cfg) {
  CheckpointSettings c;
  c.save_dir = cfg.text("checkpoint.save_dir");
  c.restore_file = cfg.text("checkpoint.restore_file");
  if (c.restore_file == "checkpoint_last.pt") c.restore_file = c.save_dir + "/" + c.restore_file;
  c.suffix = cfg.text("checkpoint.checkpoint_suffix");
  c.no_save = cfg.flag("checkpoint.no_save");
  c.no_epoch_checkpoints = cfg.flag("checkpoint.no_epoch_checkpoints");
  c.no_last_checkpoints = cfg.flag("checkpoint.no_last_checkpoints");
  c.no_save_optimizer_state = cfg.flag("checkpoint.no_save_optimizer_state");
  c.reset_optimizer = cfg.flag("checkpoint.reset_optimizer");
  c.reset_dataloader = cfg.flag("checkpoint.reset_dataloader");
  c.save_interval = cfg.integer("checkpoint.save_interval");
  c.save_interval_updates = cfg.integer("checkpoint.save_interval_updates");
  c.keep_last_epochs = cfg.integer("checkpoint.keep_last_epochs");
  c.keep_interval_updates = cfg.integer("checkpoint.keep_interval_updates");
  c.best_metric = cfg.text("checkpoint.best_checkpoint_metric");
  c.maximize_best = cfg.flag("checkpoint.maximize_best_checkpoint_metric");
  return c;
}

// Keys whose schema entry cannot say "ignored" because w2v implements some of their values:
// fairseq's published configs set log_format json and the log_keys w2v always logs.
std::vector<std::string> partly_implemented(const config::Config& cfg, bool pretraining) {
  std::vector<std::string> out;
  if (cfg.is_set("common.log_format") && cfg.text("common.log_format") != "json")
    out.push_back("warning: common.log_format=" + cfg.text("common.log_format") +
                  " is ignored: w2v writes JSON lines (json)");
  if (pretraining)
    for (const std::string& k : cfg.texts("criterion.log_keys"))
      if (k != "prob_perplexity" && k != "code_perplexity" && k != "temp")
        out.push_back("warning: criterion.log_keys entry '" + k +
                      "' is ignored: w2v logs prob_perplexity, code_perplexity and temp");
  return out;
}

}  // namespace

TrainSettings read_train_settings(const config::Config& cfg) {
  config::check_ranges(cfg);
  TrainSettings s;
  s.seed = static_cast<uint64_t>(cfg.integer("common.seed"));
  const std::string model = cfg.choice("model"), criterion = cfg.choice("criterion");
  if (model.empty()) throw key_error("model._name", "is required (wav2vec2 or wav2vec_ctc)");
  s.pretraining = model == "wav2vec2";
  if (s.pretraining && criterion != "wav2vec")
    throw key_error("criterion._name", "model wav2vec2 trains with criterion wav2vec, got '" + criterion + "'");
  if (!s.pretraining && criterion != "ctc")
    throw key_error("criterion._name", "model wav2vec_ctc trains with criterion ctc, got '" + criterion + "'");
  if (cfg.choice("optimizer") != "adam") throw key_error("optimizer._name", "is required (adam)");
  s.world_size = cfg.integer("distributed_training.distributed_world_size");

  s.stop.max_update = cfg.integer("optimization.max_update");
  s.stop.max_epoch = cfg.integer("optimization.max_epoch");
  s.stop.stop_time_hours = cfg.real("optimization.stop_time_hours");
  s.stop.stop_min_lr = cfg.real("optimization.stop_min_lr");
  s.stop.patience = cfg.integer("checkpoint.patience");

  s.update.update_freq = cfg.integers("optimization.update_freq");
  if (s.update.update_freq.empty()) throw key_error("optimization.update_freq", "needs at least one value");
  s.update.clip_norm = cfg.real("optimization.clip_norm");
  s.update.skip_remainder_batch = cfg.flag("optimization.skip_remainder_batch");
  const auto betas = cfg.reals("optimizer.adam_betas");
  if (betas.size() != 2) throw key_error("optimizer.adam_betas", "expects two values");
  s.update.adam_betas = {betas[0], betas[1]};
  s.update.adam_eps = cfg.real("optimizer.adam_eps");
  s.update.weight_decay = cfg.real("optimizer.weight_decay");

  s.checkpoint = read_checkpoint(cfg);

  if (!cfg.flag("dataset.disable_validation")) s.validation.subsets = split(cfg.text("dataset.valid_subset"), ',');
  s.validation.interval = cfg.integer("dataset.validate_interval");
  s.validation.interval_updates = cfg.integer("dataset.validate_interval_updates");
  s.validation.after_updates = cfg.integer("dataset.validate_after_updates");
  s.validation.max_steps = optional_int(cfg, "dataset.max_valid_steps");

  s.log.log_interval = cfg.integer("common.log_interval");
  if (cfg.is_set("common.tensorboard_logdir")) s.log.tensorboard_logdir = cfg.text("common.tensorboard_logdir");
  s.log.progress_bar = !cfg.flag("common.no_progress_bar");

  s.data = read_data(cfg, s.pretraining, s.seed);
  s.warnings = partly_implemented(cfg, s.pretraining);
  return s;
}

}  // namespace w2v::train
