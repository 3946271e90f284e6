#include "train/adam.h"

#include <cmath>

namespace w2v::train {

Adam::Adam(std::vector<torch::Tensor> params, double lr, std::array<double, 2> betas, double eps,
           double weight_decay)
    : params_(std::move(params)),
      state_(params_.size()),
      lr_(lr),
      beta1_(betas[0]),
      beta2_(betas[1]),
      eps_(eps),
      weight_decay_(weight_decay) {}

void Adam::step() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const auto& g = p.grad();
    if (!g.defined()) continue;
    State& s = state_[i];
    if (!s.exp_avg.defined()) {
      s.exp_avg = torch::zeros_like(p);
      s.exp_avg_sq = torch::zeros_like(p);
    }
    ++s.step;
    s.exp_avg.mul_(beta1_).add_(g, 1 - beta1_);
    s.exp_avg_sq.mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    const double t = static_cast<double>(s.step);
    const double bias1 = 1 - std::pow(beta1_, t), bias2 = 1 - std::pow(beta2_, t);
    const double step_size = lr_ * std::sqrt(bias2) / bias1;
    if (weight_decay_ != 0) p.add_(p, -weight_decay_ * lr_);
    p.addcdiv_(s.exp_avg, s.exp_avg_sq.sqrt().add_(eps_), -step_size);
  }
}

void Adam::zero_grad() {
  for (auto& p : params_) p.mutable_grad().reset();
}

}  // namespace w2v::train
