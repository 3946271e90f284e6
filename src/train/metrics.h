// What training reports: one JSON object per line on the log stream (fairseq's train_inner,
// train and valid records, warnings), the same records as TensorBoard scalars under
// <tensorboard_logdir>/<tag>/, and a progress bar on stderr when it is a terminal. Only rank 0
// reports; on other ranks every call does nothing.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "train/logging_output.h"
#include "train/tensorboard.h"
#include "train/train_config.h"
#include "util/progress.h"

namespace w2v::train {

// Sums over a run of updates (since the last train_inner record, or since the epoch began).
struct Window {
  LoggingOutput logs;  // the updates' summed logging outputs, plus batches, bsz, sample_size_total
  int64_t updates = 0;
  double gnorm = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void add(const LoggingOutput& update_logs, double update_gnorm);
  void reset() { *this = Window(); }
};

class Metrics {
 public:
  Metrics(std::ostream& log, LogSettings settings, bool master);

  bool master() const { return master_; }
  // Writes one JSON line (erasing the progress bar first so that the line stays whole).
  void emit(const nlohmann::json& record);
  void warn(const std::string& message) { emit(nlohmann::json{{"warning", message}}); }
  // Adds the numeric values of `stats` to TensorBoard under `tag` at update `step`.
  void board(const std::string& tag, const nlohmann::json& stats, int64_t step);

  // The progress bar of a run to `max_update` (0: unknown) resumed at `done`.
  void start_progress(int64_t max_update, int64_t done);
  void progress(int64_t done, ProgressStats stats);
  void finish_progress();

  // A train_inner/train record's values: the window's loss (bits per sample_size unit), then
  // `task_stats`, bsz, lr, gnorm, ups, skipped_updates, wall and cpu.
  nlohmann::json window_stats(const Window& w, const std::map<std::string, double>& task_stats, double lr,
                              int64_t skipped) const;

  // Seconds since this object was made (the run's wall time).
  double seconds() const;

 private:
  std::ostream& log_;
  LogSettings settings_;
  bool master_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> progress_;
  std::map<std::string, std::unique_ptr<SummaryWriter>> boards_;  // by record tag / subset
};

}  // namespace w2v::train
