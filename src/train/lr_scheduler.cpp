#include "train/lr_scheduler.h"

#include <cmath>

#include "config/config.h"
#include "util/error.h"

namespace w2v::train {

PolynomialDecaySchedule::PolynomialDecaySchedule(double peak, int64_t warmup_updates,
                                                 double end_learning_rate, double power,
                                                 double total_num_update)
    : peak_(peak), end_(end_learning_rate), power_(power), total_(total_num_update),
      warmup_(warmup_updates) {
  if (total_ <= static_cast<double>(warmup_) && total_ > 0)
    throw key_error("lr_scheduler.total_num_update",
                    "must exceed lr_scheduler.warmup_updates (" + std::to_string(warmup_) + ")");
}

double PolynomialDecaySchedule::initial() const {
  return warmup_ > 0 ? peak_ / static_cast<double>(warmup_) : peak_;
}

double PolynomialDecaySchedule::lr(int64_t n) const {
  if (warmup_ > 0 && n <= warmup_) return peak_ * static_cast<double>(n) / static_cast<double>(warmup_);
  if (static_cast<double>(n) >= total_) return end_;
  const double remaining = 1.0 - (static_cast<double>(n - warmup_)) / (total_ - static_cast<double>(warmup_));
  return (peak_ - end_) * std::pow(remaining, power_) + end_;
}

TriStageSchedule::TriStageSchedule(double peak, int64_t warmup, int64_t hold, int64_t decay,
                                   double init_lr_scale, double final_lr_scale)
    : peak_(peak), init_(init_lr_scale * peak), final_(final_lr_scale * peak),
      decay_factor_(decay > 0 ? -std::log(final_lr_scale) / static_cast<double>(decay) : 0.0),
      warmup_(warmup), hold_(hold), decay_(decay) {}

double TriStageSchedule::lr(int64_t n) const {
  if (n < warmup_) return init_ + (peak_ - init_) / static_cast<double>(warmup_) * static_cast<double>(n);
  n -= warmup_;
  if (n < hold_) return peak_;
  n -= hold_;
  if (n <= decay_) return peak_ * std::exp(-decay_factor_ * static_cast<double>(n));
  return final_;
}

std::unique_ptr<LrScheduler> make_lr_scheduler(const config::Config& cfg) {
  const std::string name = cfg.choice("lr_scheduler");
  if (name.empty()) throw key_error("lr_scheduler._name", "is required (polynomial_decay or tri_stage)");
  const auto lrs = cfg.reals("lr_scheduler.lr");
  if (lrs.size() != 1)
    throw key_error("optimization.lr", "expects exactly one learning rate, got " + std::to_string(lrs.size()));
  const double peak = lrs[0];
  if (name == "polynomial_decay")
    return std::make_unique<PolynomialDecaySchedule>(
        peak, cfg.integer("lr_scheduler.warmup_updates"), cfg.real("lr_scheduler.end_learning_rate"),
        cfg.real("lr_scheduler.power"), cfg.real("lr_scheduler.total_num_update"));
  int64_t w = cfg.integer("lr_scheduler.warmup_steps"), h = cfg.integer("lr_scheduler.hold_steps"),
          d = cfg.integer("lr_scheduler.decay_steps");
  if (cfg.is_set("lr_scheduler.phase_ratio")) {
    const auto ratio = cfg.reals("lr_scheduler.phase_ratio");
    if (ratio.size() != 3 || std::abs(ratio[0] + ratio[1] + ratio[2] - 1.0) > 1e-9)
      throw key_error("lr_scheduler.phase_ratio", "expects 3 ratios summing to 1");
    const double n = static_cast<double>(cfg.integer("lr_scheduler.max_update"));
    w = static_cast<int64_t>(n * ratio[0]);
    h = static_cast<int64_t>(n * ratio[1]);
    d = static_cast<int64_t>(n * ratio[2]);
  }
  if (w + h + d <= 0)
    throw key_error("lr_scheduler.phase_ratio", "or warmup/hold/decay_steps must give a positive total");
  return std::make_unique<TriStageSchedule>(peak, w, h, d, cfg.real("lr_scheduler.init_lr_scale"),
                                            cfg.real("lr_scheduler.final_lr_scale"));
}

}  // namespace w2v::train
