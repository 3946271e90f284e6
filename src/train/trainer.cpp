// The update loop. Reading order: Impl (what a run holds), setup (settings, task, data,
// optimizer, resume), update (one accumulation cycle -> one Adam step), the end-of-update
// bookkeeping (logs, validation, save points), and train() (epochs of updates).
#include "train/trainer.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "data/loader.h"
#include "train/adam.h"
#include "train/checkpointing.h"
#include "train/config_value.h"
#include "train/distributed.h"
#include "train/lr_scheduler.h"
#include "train/metrics.h"
#include "train/save_dir.h"
#include "train/state_sync.h"
#include "train/task.h"
#include "train/train_config.h"
#include "util/error.h"

namespace w2v::train {

using nlohmann::json;

namespace {

constexpr int kMaxConsecutiveBadUpdates = 10;
constexpr uint64_t kValidStream = 0x76616c6964ULL;  // "valid": masks of validation batches

using Datasets = std::vector<std::pair<std::string, std::shared_ptr<data::AudioDataset>>>;

}  // namespace

struct Trainer::Impl {
  TrainSettings s;                    // every setting, read and checked once
  std::unique_ptr<Distributed> dist;  // null: one process
  Metrics metrics;                    // JSON log, TensorBoard, progress bar (rank 0)
  std::unique_ptr<SaveDirLock> save_dir_lock;  // rank 0 owns save_dir unless checkpoint.no_save
  std::unique_ptr<Task> task;                  // model + criterion
  std::shared_ptr<data::AudioDataset> train_set;
  std::unique_ptr<data::Loader> train_loader;
  Datasets valid_sets;
  std::unique_ptr<LrScheduler> scheduler;
  std::unique_ptr<Adam> adam;
  std::unique_ptr<Checkpointer> checkpoints;

  TrainState state;
  int64_t consecutive_bad = 0;  // non-finite updates in a row
  int64_t validations_without_improvement = 0;
  // The loop learns that an epoch ended only after its last update was handled, so the
  // end-of-epoch call can land on an update that was just validated: it reuses that result.
  int64_t last_validated_update = -1;
  bool last_validation_was_best = false;
  Window interval, epoch_window;  // since the last train_inner record / the epoch's start

  Impl(const config::Config& cfg, std::ostream& log, const TrainerOptions& options);
  void open_data(const std::shared_ptr<data::Dictionary>& dictionary);
  void resume();
  bool update(const std::vector<data::Batch>& group);
  void all_reduce(std::vector<torch::Tensor>& params, double& sample_size, bool& finite, LoggingOutput& logs);
  void skip_update();
  void log_window(Window& w, const std::string& tag);
  void validate_and_maybe_save(bool end_of_epoch, bool force_validate);
  std::map<std::string, double> validate(const std::string& name, const data::AudioDataset& set);

  bool master() const { return metrics.master(); }
  std::vector<torch::Tensor> parameters() const { return task->model().module().parameters(); }
  bool should_stop() const {
    const StopSettings& st = s.stop;
    return (st.max_update > 0 && state.num_updates >= st.max_update) ||
           (st.stop_time_hours > 0 && metrics.seconds() >= st.stop_time_hours * 3600.0) ||
           (state.num_updates > 0 && adam->lr() <= st.stop_min_lr) ||
           (st.patience > 0 && validations_without_improvement >= st.patience);
  }
};

// ---- setup ------------------------------------------------------------------------------

Trainer::Impl::Impl(const config::Config& cfg, std::ostream& log, const TrainerOptions& options)
    : s(read_train_settings(cfg)), dist(Distributed::from_env(cfg)), metrics(log, s.log, !dist || dist->rank() == 0) {
  torch::manual_seed(s.seed);  // the model's initial weights
  if (master() && !s.checkpoint.no_save) save_dir_lock = std::make_unique<SaveDirLock>(s.checkpoint.save_dir);
  for (const auto& w : cfg.warnings()) metrics.warn(w);
  for (const auto& w : s.warnings) metrics.warn(w);
  if (save_dir_lock && save_dir_lock->removed_temp_files() > 0)
    metrics.warn("removed " + std::to_string(save_dir_lock->removed_temp_files()) +
                 " temp file(s) of interrupted saves from " + s.checkpoint.save_dir);
  if (s.world_size > 1 && !dist)
    metrics.warn("distributed_training.distributed_world_size=" + std::to_string(s.world_size) +
                 " runs as one process accumulating " + std::to_string(s.world_size) +
                 "x update_freq batches per update (the same gradient)");

  task = make_task(cfg, s, options.make_lm_decoder);
  const auto& dict = task->model().dictionary;
  open_data(dict ? std::make_shared<data::Dictionary>(*dict) : nullptr);
  scheduler = make_lr_scheduler(cfg);
  adam = std::make_unique<Adam>(parameters(), scheduler->initial(), s.update.adam_betas, s.update.adam_eps,
                                s.update.weight_decay);
  checkpoints = std::make_unique<Checkpointer>(s.checkpoint, s.update, config_tree(cfg), task->criterion_name());
  resume();
  if (dist) {  // ranks whose machine lacks rank 0's checkpoint resume with it all the same
    std::vector<double> c{double(state.num_updates), double(state.epoch), double(state.iterations_in_epoch),
                          double(state.skipped)};
    auto tensors = parameters();
    for (auto& b : task->model().module().buffers()) tensors.push_back(b);
    broadcast_training_state(*dist, tensors, *adam, c);
    state.num_updates = int64_t(c[0]), state.epoch = int64_t(c[1]);
    state.iterations_in_epoch = int64_t(c[2]), state.skipped = int64_t(c[3]);
    adam->set_lr(state.num_updates > 0 ? scheduler->lr(state.num_updates) : scheduler->initial());
  }
}

void Trainer::Impl::open_data(const std::shared_ptr<data::Dictionary>& dictionary) {
  const DataSettings& d = s.data;
  auto open = [&](const std::string& split) {
    const std::string tsv = d.dir + "/" + split + ".tsv";
    return std::make_shared<data::AudioDataset>(tsv, d.dataset, d.labels.empty() ? "" : d.dir + "/" + split + "." + d.labels,
                                                dictionary);
  };
  train_set = open(d.train_subset);
  if (train_set->size() == 0)
    throw Error(d.dir + "/" + d.train_subset + ".tsv: no training samples (" + std::to_string(train_set->skipped()) +
                " skipped by task.min_sample_size=" + std::to_string(d.dataset.min_sample_size) + ")");
  data::LoaderOptions lo = d.train;
  if (dist) {
    lo.rank = dist->rank();
    lo.world_size = dist->world_size();
  }
  train_loader = std::make_unique<data::Loader>(train_set, lo);
  for (const auto& split : s.validation.subsets) valid_sets.emplace_back(split, open(split));
}

void Trainer::Impl::resume() {
  if (auto r = checkpoints->resume(task->model(), *adam, state)) {
    if (!r->had_optimizer_state) metrics.warn(r->path + " has no optimizer state; Adam starts afresh");
    metrics.emit(json{{"resumed", r->path}, {"num_updates", state.num_updates}, {"epoch", state.epoch},
                      {"iterations_in_epoch", state.iterations_in_epoch}});
  }
  adam->set_lr(state.num_updates > 0 ? scheduler->lr(state.num_updates) : scheduler->initial());
}

// ---- one update -------------------------------------------------------------------------

// Forward/backward of each batch of `group`, gradients summed (over workers too) and divided
// by the summed sample_size, clipped, then one Adam step. False when the update was skipped.
bool Trainer::Impl::update(const std::vector<data::Batch>& group) {
  task->model().module().train();
  task->set_num_updates(state.num_updates);
  // No gradients at the start, as after a resume: a parameter that gets none in this cycle
  // (a layer every batch's LayerDrop skipped) is left out of the norm and the step.
  adam->zero_grad();
  auto params = parameters();
  double sample_size = 0;
  bool finite = true;
  LoggingOutput logs;
  for (size_t i = 0; i < group.size(); ++i) {
    // The batch's position in the global accumulation cycle (rank r of W takes r, r + W, ...)
    // seeds its masks, negatives, dropout and Gumbel noise, so W workers x update_freq k
    // draw exactly what one process with update_freq k * W draws.
    const uint64_t position = dist ? i * dist->world_size() + dist->rank() : i;
    torch::manual_seed(stream_seed(s.seed, static_cast<uint64_t>(state.num_updates), position) >> 1);
    Rng rng(stream_seed(s.seed, static_cast<uint64_t>(state.num_updates), position));
    CriterionResult r = task->loss(group[i], rng, true);
    if (std::isfinite(r.loss.item<double>())) r.loss.backward();
    else finite = false;
    sample_size += r.sample_size;
    accumulate(logs, r.logging);
    logs["batches"] += 1;
    logs["bsz"] += static_cast<double>(group[i].size());
  }
  if (dist) all_reduce(params, sample_size, finite, logs);

  double gnorm = 0;
  {
    torch::NoGradGuard no_grad;
    double sq = 0;
    for (auto& p : params)
      if (p.grad().defined()) {
        p.mutable_grad().mul_(sample_size > 0 ? 1.0 / sample_size : 0.0);
        sq += p.grad().pow(2).sum().item<double>();
      }
    gnorm = std::sqrt(sq);
    const double clip = s.update.clip_norm;
    if (clip > 0 && std::isfinite(gnorm)) {
      const double coef = std::min(1.0, clip / (gnorm + 1e-6));
      if (coef < 1.0)
        for (auto& p : params)
          if (p.grad().defined()) p.mutable_grad().mul_(coef);
    }
  }
  if (!finite || !std::isfinite(gnorm)) {
    skip_update();
    return false;
  }
  consecutive_bad = 0;
  adam->step();
  ++state.num_updates;
  adam->set_lr(scheduler->lr(state.num_updates));
  logs["sample_size_total"] = sample_size;
  interval.add(logs, gnorm);
  epoch_window.add(logs, gnorm);
  ProgressStats bar{{"loss", log2_scale(logs["loss"], sample_size)}};
  task->add_progress(logs, bar);
  bar.emplace_back("lr", adam->lr());
  metrics.progress(state.num_updates, std::move(bar));
  return true;
}

// Sums gradients (zeros where a worker had none), which parameters had one anywhere, the sample
// sizes, the finite flags and every logged statistic over the workers, in one collective. A
// parameter no worker has a gradient for keeps none, so Adam skips it as one process
// accumulating the same batches does (and torch's DDP; fairseq's legacy_ddp would step it with
// a zero gradient).
void Trainer::Impl::all_reduce(std::vector<torch::Tensor>& params, double& sample_size, bool& finite,
                               LoggingOutput& logs) {
  std::vector<torch::Tensor> bufs;
  auto has = torch::zeros({static_cast<int64_t>(params.size())}, torch::kDouble);
  for (size_t i = 0; i < params.size(); ++i) {
    const bool defined = params[i].grad().defined();
    has[i] = defined ? 1.0 : 0.0;
    bufs.push_back(defined ? params[i].grad() : torch::zeros_like(params[i]));
  }
  std::vector<double> stats{sample_size, finite ? 0.0 : 1.0};
  for (const auto& [k, v] : logs) stats.push_back(v);
  bufs.push_back(has);
  bufs.push_back(torch::tensor(stats, torch::kDouble));
  dist->all_reduce_sum(bufs);
  for (size_t i = 0; i < params.size(); ++i)
    if (has[i].item<double>() > 0) params[i].mutable_grad() = bufs[i];
  auto reduced = bufs.back().contiguous();
  const double* r = reduced.data_ptr<double>();
  sample_size = r[0];
  finite = r[1] == 0.0;
  size_t j = 2;
  for (auto& kv : logs) kv.second = r[j++];
}

// A non-finite loss or gradient: no step; after kMaxConsecutiveBadUpdates in a row, training
// stops with checkpoint_last.pt saved (the weights of the last good update).
void Trainer::Impl::skip_update() {
  ++state.skipped;
  ++consecutive_bad;
  metrics.emit(json{{"warning", "skipping update: non-finite loss or gradient"},
                    {"num_updates", state.num_updates},
                    {"consecutive", consecutive_bad}});
  if (consecutive_bad < kMaxConsecutiveBadUpdates) return;
  if (master()) checkpoints->save(task->model(), *adam, state, false, false);
  throw Error("training stopped: " + std::to_string(consecutive_bad) +
              " consecutive updates had a non-finite loss or gradient (at update " +
              std::to_string(state.num_updates) +
              (checkpoints->saves_last() ? "; checkpoint_last.pt saved in " + s.checkpoint.save_dir
                                         : "; no checkpoint saved: checkpoint.no_save/no_last_checkpoints") +
              "); lower optimization.lr or set optimization.clip_norm");
}

// ---- logs, validation, save points --------------------------------------------------------

// One train_inner record (tag "train_inner") or fairseq's end-of-epoch record (tag "train",
// keys prefixed with "train_") of the window's averages; the window starts again.
void Trainer::Impl::log_window(Window& w, const std::string& tag) {
  if (w.updates == 0 || !master()) return;
  const Stats task_stats = task->train_stats(w.logs);
  const json stats = metrics.window_stats(w, task_stats, adam->lr(), state.skipped);
  json j{{"tag", tag}, {"epoch", state.epoch}, {"num_updates", state.num_updates}};
  if (tag == "train_inner") {
    const std::string warning = task->check(task_stats);
    if (!warning.empty()) metrics.emit(json{{"warning", warning}, {"num_updates", state.num_updates}});
    j.update(stats);
  } else {
    for (const auto& [k, v] : stats.items()) j["train_" + k] = v;
  }
  metrics.emit(j);
  metrics.board(tag, stats, state.num_updates);
  w.reset();
}

std::map<std::string, double> Trainer::Impl::validate(const std::string& name, const data::AudioDataset& set) {
  torch::NoGradGuard no_grad;
  task->model().module().eval();
  auto shared = std::shared_ptr<const data::AudioDataset>(std::shared_ptr<const data::AudioDataset>{}, &set);
  data::Loader loader(shared, s.data.valid);
  loader.start_epoch(1);
  LoggingOutput sums;
  data::Batch batch;
  const int64_t max_steps = s.validation.max_steps;
  for (uint64_t j = 0; (max_steps <= 0 || static_cast<int64_t>(j) < max_steps) && loader.next(batch); ++j) {
    Rng rng(stream_seed(s.seed, kValidStream, j));
    accumulate(sums, task->valid_step(batch, rng));
  }
  std::map<std::string, double> out = task->valid_stats(sums);
  out["loss"] = log2_scale(sums["loss"], sums["sample_size"]);
  json j{{"tag", "valid"}, {"subset", name}, {"epoch", state.epoch}, {"num_updates", state.num_updates}};
  for (const auto& [k, v] : out) j["valid_" + k] = v;
  metrics.emit(j);
  metrics.board(name, json(out), state.num_updates);
  return out;
}

void Trainer::Impl::validate_and_maybe_save(bool end_of_epoch, bool force) {
  // Workers other than rank 0 hold the same model; rank 0 alone validates and writes.
  if (!master()) return;
  const CheckpointSettings& c = s.checkpoint;
  const ValidationSettings& v = s.validation;
  const int64_t n = state.num_updates;
  const bool stop = should_stop();
  const bool save_now = force || stop || (end_of_epoch && state.epoch % c.save_interval == 0) ||
                        (!end_of_epoch && c.save_interval_updates > 0 && n % c.save_interval_updates == 0);
  bool validate_now = stop || (end_of_epoch && state.epoch % v.interval == 0) || (save_now && !end_of_epoch) ||
                      (v.interval_updates > 0 && n % v.interval_updates == 0);
  validate_now = validate_now && !valid_sets.empty() && n >= v.after_updates;
  bool is_best = false;
  if (validate_now && n == last_validated_update) {
    validate_now = false;
    is_best = last_validation_was_best;
  }
  if (validate_now) {
    auto first = validate(valid_sets[0].first, *valid_sets[0].second);
    for (size_t i = 1; i < valid_sets.size(); ++i) validate(valid_sets[i].first, *valid_sets[i].second);
    auto it = first.find(c.best_metric);
    if (it == first.end())
      throw key_error("checkpoint.best_checkpoint_metric",
                      "'" + c.best_metric + "' is not a validation metric of this model");
    // As fairseq: a tie still makes the newer checkpoint the best one, but only a strict
    // improvement resets the patience counter.
    const double value = it->second;
    const bool improved = !state.has_best || (c.maximize_best ? value > state.best : value < state.best);
    is_best = improved || value == state.best;
    if (is_best) {
      state.best = value;
      state.has_best = true;
    }
    validations_without_improvement = improved ? 0 : validations_without_improvement + 1;
    last_validated_update = n;
    last_validation_was_best = is_best;
  }
  // A new best is written when it is found, save point or not: fairseq records it only at save
  // points, so a best found by a validate_interval_updates validation between them is lost.
  if (save_now || is_best) checkpoints->save(task->model(), *adam, state, end_of_epoch, is_best);
}

// ---- the loop ---------------------------------------------------------------------------

Trainer::Trainer(const config::Config& cfg, std::ostream& log, TrainerOptions options)
    : impl_(std::make_unique<Impl>(cfg, log, options)) {}

Trainer::~Trainer() = default;

TrainSummary Trainer::train() {
  Impl& t = *impl_;
  TrainState& st = t.state;
  const auto& freqs = t.s.update.update_freq;
  t.metrics.start_progress(t.s.stop.max_update, st.num_updates);
  while (!t.should_stop() && (t.s.stop.max_epoch == 0 || st.epoch <= t.s.stop.max_epoch)) {
    // Without worker processes, one process accumulates the batches of all world_size workers.
    const int64_t uf = freqs[std::min<size_t>(static_cast<size_t>(st.epoch - 1), freqs.size() - 1)] *
                       (t.dist ? 1 : std::max<int64_t>(1, t.s.world_size));
    t.train_loader->start_epoch(st.epoch, static_cast<size_t>(st.iterations_in_epoch));
    const bool from_start = st.iterations_in_epoch == 0;
    bool epoch_done = false;
    while (!t.should_stop()) {
      std::vector<data::Batch> group;
      for (int64_t k = 0; k < uf; ++k) {
        data::Batch b;
        if (!t.train_loader->next(b)) {
          epoch_done = true;
          break;
        }
        group.push_back(std::move(b));
      }
      const bool remainder = static_cast<int64_t>(group.size()) < uf;
      if (!group.empty() && !(remainder && t.s.update.skip_remainder_batch)) {
        st.iterations_in_epoch += static_cast<int64_t>(group.size());
        if (t.update(group)) {
          if (t.s.log.log_interval > 0 && st.num_updates % t.s.log.log_interval == 0)
            t.log_window(t.interval, "train_inner");
          if (!epoch_done) t.validate_and_maybe_save(false, false);
        }
      }
      if (epoch_done) break;
    }
    if (epoch_done && from_start && st.iterations_in_epoch == 0)  // else every epoch is empty: a hang
      throw Error("an epoch of the training set gives no update (" + std::to_string(t.train_set->size()) +
                  " samples, distributed_world_size " + std::to_string(t.s.world_size) + ", update_freq " +
                  std::to_string(uf) + ", optimization.skip_remainder_batch): add data or lower the batch size");
    t.log_window(t.interval, "train_inner");
    t.log_window(t.epoch_window, "train");
    if (epoch_done) {
      t.validate_and_maybe_save(true, false);
      ++st.epoch;
      st.iterations_in_epoch = 0;
    }
  }
  t.metrics.finish_progress();
  return TrainSummary{st.num_updates, st.epoch, st.skipped, st.best};
}

}  // namespace w2v::train
