// fairseq's per-update learning-rate schedules (spec 7.2). lr(n) is the rate used for update
// n + 1, i.e. after n completed updates; initial() is the rate of the very first update.
#pragma once

#include <memory>
#include <string>

namespace w2v::config {
class Config;
}

namespace w2v::train {

class LrScheduler {
 public:
  virtual ~LrScheduler() = default;
  virtual double initial() const = 0;
  virtual double lr(int64_t num_updates) const = 0;
};

// Linear warmup to peak over W updates, then (1 - progress)^power decay to end_lr at N.
class PolynomialDecaySchedule : public LrScheduler {
 public:
  PolynomialDecaySchedule(double peak, int64_t warmup_updates, double end_learning_rate,
                          double power, double total_num_update);
  double initial() const override;
  double lr(int64_t n) const override;

 private:
  double peak_, end_, power_, total_;
  int64_t warmup_;
};

// Warmup from init_lr_scale * peak, hold at peak, exponential decay to final_lr_scale * peak.
class TriStageSchedule : public LrScheduler {
 public:
  // Phase lengths W, H, D in updates.
  TriStageSchedule(double peak, int64_t warmup, int64_t hold, int64_t decay, double init_lr_scale,
                   double final_lr_scale);
  double initial() const override { return init_; }
  double lr(int64_t n) const override;

 private:
  double peak_, init_, final_, decay_factor_;
  int64_t warmup_, hold_, decay_;
};

// Builds lr_scheduler._name from a config (phase_ratio turns into phase lengths of
// lr_scheduler.max_update as fairseq does; the ratios must sum to 1).
std::unique_ptr<LrScheduler> make_lr_scheduler(const config::Config& cfg);

}  // namespace w2v::train
