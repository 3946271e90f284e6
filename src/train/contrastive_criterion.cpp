#include "train/contrastive_criterion.h"

#include "util/error.h"

namespace w2v::train {

ContrastiveCriterion::ContrastiveCriterion(std::vector<double> loss_weights)
    : loss_weights_(std::move(loss_weights)) {
  if (loss_weights_.size() > 2)
    throw Error("loss_weights has " + std::to_string(loss_weights_.size()) +
                " entries; expected at most 2 (diversity, features_pen)");
  // fairseq's criterion: one weight applies to every extra loss.
  if (loss_weights_.size() == 1) loss_weights_.push_back(loss_weights_[0]);
}

CriterionResult ContrastiveCriterion::operator()(const torch::Tensor& logits,
                                                 const torch::Tensor& prob_perplexity,
                                                 int64_t num_vars,
                                                 const torch::Tensor& features_pen) const {
  // [1+K, B, M] -> [M, B, 1+K] -> rows in time-major order, as fairseq's get_logits.
  const auto rows = logits.transpose(0, 2).reshape({-1, logits.size(0)}).to(torch::kFloat);
  const auto target = torch::zeros({rows.size(0)}, torch::kLong);
  CriterionResult r;
  r.sample_size = static_cast<double>(rows.size(0));
  auto loss = torch::nn::functional::cross_entropy(
      rows, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  // fairseq's `losses`: the contrastive loss, then each extra loss whose weight is not 0; they
  // are logged as loss_0, loss_1, ... only when there is more than one.
  std::vector<double> losses{loss.item<double>()};
  const double w_div = loss_weights_.size() > 0 ? loss_weights_[0] : 0.0;
  const double w_pen = loss_weights_.size() > 1 ? loss_weights_[1] : 0.0;
  if (w_div != 0) {
    auto div = (static_cast<double>(num_vars) - prob_perplexity) / static_cast<double>(num_vars);
    auto term = w_div * r.sample_size * div.to(torch::kFloat);
    losses.push_back(term.item<double>());
    loss = loss + term;
  }
  if (w_pen != 0) {
    auto term = w_pen * r.sample_size * features_pen.to(torch::kFloat);
    losses.push_back(term.item<double>());
    loss = loss + term;
  }
  if (losses.size() > 1)
    for (size_t i = 0; i < losses.size(); ++i) r.logging["loss_" + std::to_string(i)] = losses[i];
  r.loss = loss;
  r.logging["loss"] = loss.item<double>();
  r.logging["sample_size"] = r.sample_size;
  {
    torch::NoGradGuard no_grad;
    // fairseq counts every row but credits none whose max and min both sit at the positive
    // (all candidates equal).
    auto is_max = rows.argmax(-1) == 0, is_min = rows.argmin(-1) == 0;
    r.logging["correct"] = static_cast<double>(
        is_max.sum().item<int64_t>() - (is_max & is_min).sum().item<int64_t>());
    r.logging["count"] = static_cast<double>(rows.size(0));
  }
  r.logging["prob_perplexity"] = prob_perplexity.item<double>();
  return r;
}

}  // namespace w2v::train
