#include "train/metrics.h"

#include <ctime>

namespace w2v::train {

using nlohmann::json;

void Window::add(const LoggingOutput& update_logs, double update_gnorm) {
  accumulate(logs, update_logs);
  gnorm += update_gnorm;
  ++updates;
}

Metrics::Metrics(std::ostream& log, LogSettings settings, bool master)
    : log_(log), settings_(std::move(settings)), master_(master) {}

void Metrics::emit(const json& record) {
  if (!master_) return;
  if (progress_) progress_->clear();
  log_ << record.dump() << "\n";
  log_.flush();
}

void Metrics::board(const std::string& tag, const json& stats, int64_t step) {
  if (!master_ || settings_.tensorboard_logdir.empty()) return;
  auto& w = boards_[tag];
  if (!w) w = std::make_unique<SummaryWriter>(settings_.tensorboard_logdir + "/" + tag);
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [k, v] : stats.items())
    if (v.is_number()) scalars.emplace_back(k, v.get<double>());
  w->add_scalars(step, scalars);
}

void Metrics::start_progress(int64_t max_update, int64_t done) {
  progress_ = std::make_unique<Progress>("train", max_update, done, "ups", master_ && settings_.progress_bar);
}

void Metrics::progress(int64_t done, ProgressStats stats) {
  if (progress_) progress_->update(done, std::move(stats));
}

void Metrics::finish_progress() {
  if (progress_) progress_->finish();
}

json Metrics::window_stats(const Window& w, const std::map<std::string, double>& task_stats, double lr,
                           int64_t skipped) const {
  LoggingOutput sums = w.logs;  // operator[] below must not insert into the window
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.start).count();
  json j;
  j["loss"] = log2_scale(sums["loss"], sums["sample_size_total"]);
  for (const auto& [k, v] : task_stats) j[k] = v;
  const double updates = static_cast<double>(w.updates);
  j["bsz"] = sums["bsz"] / updates;
  j["lr"] = lr;
  j["gnorm"] = w.gnorm / updates;
  j["ups"] = dt > 0 ? updates / dt : 0.0;
  j["skipped_updates"] = skipped;
  j["wall"] = seconds();
  j["cpu"] = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;  // process CPU seconds, all threads
  return j;
}

double Metrics::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

}  // namespace w2v::train
