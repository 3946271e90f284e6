// fairseq's Adam (spec 7.1): bias-corrected step size lr * sqrt(1 - b2^t) / (1 - b1^t),
// eps added to sqrt(v) *without* bias correction, decoupled weight decay p -= lr * wd * p
// applied to every parameter before the update. State is kept per parameter like PyTorch's
// (step, exp_avg, exp_avg_sq) so it maps onto fairseq's optimizer state dict.
#pragma once

#include <torch/torch.h>

#include <array>
#include <vector>

namespace w2v::train {

class Adam {
 public:
  struct State {
    int64_t step = 0;
    torch::Tensor exp_avg, exp_avg_sq;  // undefined until the first step
  };

  Adam(std::vector<torch::Tensor> params, double lr, std::array<double, 2> betas, double eps,
       double weight_decay);

  // Updates every parameter that has a gradient; others (frozen, unused, in a layer LayerDrop
  // skipped) are left alone, weights and state.
  void step();
  // Drops every gradient, as fairseq's optimizer.zero_grad (p.grad = None): a parameter that gets
  // none in the next cycle is then skipped by step(), where a zeroed gradient would decay its
  // moments and weight-decay it (and a run resumed from a checkpoint, which starts with no
  // gradients, would differ from the uninterrupted one).
  void zero_grad();
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

  const std::vector<torch::Tensor>& params() const { return params_; }
  std::vector<State>& state() { return state_; }
  const std::vector<State>& state() const { return state_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<State> state_;
  double lr_, beta1_, beta2_, eps_, weight_decay_;
};

}  // namespace w2v::train
