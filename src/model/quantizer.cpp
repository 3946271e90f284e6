#include "model/quantizer.h"

#include <algorithm>
#include <cmath>

namespace w2v::model {
namespace {

// Sum over groups of exp(entropy) of per-group usage distributions probs [G, V].
torch::Tensor perplexity(const torch::Tensor& probs) {
  return torch::exp(-torch::sum(probs * torch::log(probs + 1e-7), -1)).sum();
}

}  // namespace

GumbelVectorQuantizerImpl::GumbelVectorQuantizerImpl(int64_t dim, int64_t num_vars, std::array<double, 3> temp,
                                                     int64_t groups, int64_t vq_dim)
    : num_vars_(num_vars),
      groups_(groups),
      max_temp_(temp[0]),
      min_temp_(temp[1]),
      temp_decay_(temp[2]),
      curr_temp_(temp[0]) {
  TORCH_CHECK(vq_dim % groups == 0, "quantizer dim ", vq_dim, " not divisible by groups ", groups);
  vars = register_parameter("vars", torch::rand({1, groups * num_vars, vq_dim / groups}));
  weight_proj = register_module("weight_proj", torch::nn::Linear(dim, groups * num_vars));
  torch::NoGradGuard no_grad;
  weight_proj->weight.normal_(0.0, 1.0);
  weight_proj->bias.zero_();
}

void GumbelVectorQuantizerImpl::set_num_updates(int64_t num_updates) {
  curr_temp_ = std::max(max_temp_ * std::pow(temp_decay_, static_cast<double>(num_updates)), min_temp_);
}

QuantizerOutput GumbelVectorQuantizerImpl::forward(const torch::Tensor& input) {
  const int64_t B = input.size(0), M = input.size(1), F = input.size(2);
  QuantizerOutput out;
  out.num_vars = num_vars_ * groups_;
  out.temp = curr_temp_;

  auto logits = weight_proj->forward(input.reshape({B * M, F})).view({B * M * groups_, num_vars_});
  torch::Tensor hard;
  {
    torch::NoGradGuard no_grad;
    auto k = logits.argmax(-1);
    hard = torch::zeros_like(logits).scatter_(-1, k.view({-1, 1}), 1.0);
    out.code_perplexity = perplexity(hard.view({B * M, groups_, num_vars_}).to(torch::kFloat).mean(0));
  }
  auto avg_probs = torch::softmax(logits.view({B * M, groups_, num_vars_}).to(torch::kFloat), -1).mean(0);
  out.prob_perplexity = perplexity(avg_probs);

  torch::Tensor onehot;
  if (is_training()) {
    // Hard straight-through Gumbel-softmax drawn exactly like torch.nn.functional.gumbel_softmax.
    auto l32 = logits.to(torch::kFloat);
    auto gumbels = -torch::empty_like(l32).exponential_().log();
    auto soft = torch::softmax((l32 + gumbels) / curr_temp_, -1);
    auto index = std::get<1>(soft.max(-1, true));
    auto y_hard = torch::zeros_like(l32).scatter_(-1, index, 1.0);
    onehot = (y_hard - soft.detach() + soft).to(logits.scalar_type());
  } else {
    onehot = hard;
  }
  out.targets = onehot.detach().argmax(-1).view({B, M, groups_});
  // one-hot x codebook per group as a batched matmul: [G, B*M, V] x [G, V, d] -> [G, B*M, d].
  auto sel = torch::bmm(onehot.view({B * M, groups_, num_vars_}).transpose(0, 1),
                        vars.view({groups_, num_vars_, -1}));
  out.x = sel.transpose(0, 1).reshape({B, M, -1});
  return out;
}

}  // namespace w2v::model
