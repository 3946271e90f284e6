// fairseq's `wav2vec` criterion with infonce = true (spec 4.3): summed cross-entropy of the
// positive (row 0) over the 1 + K candidates of every masked frame, plus the weighted
// diversity loss and feature penalty, each scaled by sample_size = B * M.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "train/logging_output.h"

namespace w2v::train {

struct CriterionResult {
  torch::Tensor loss;  // scalar fp32, the sum to backward
  double sample_size = 0;
  LoggingOutput logging;
};

class ContrastiveCriterion {
 public:
  // loss_weights: [diversity, features_pen] (fairseq criterion.loss_weights); one entry weighs
  // both, none means no extra loss (fairseq's None).
  explicit ContrastiveCriterion(std::vector<double> loss_weights);

  // logits [1 + K, B, M]; prob_perplexity scalar; num_vars = G * V; features_pen scalar.
  // logging keys: loss, sample_size, correct, count (sums); as fairseq, loss_0 (contrastive),
  // loss_1, loss_2 (the weighted extra losses with a non-zero weight, diversity before penalty)
  // when there are two or more; prob_perplexity (per step, averaged when reduced).
  CriterionResult operator()(const torch::Tensor& logits, const torch::Tensor& prob_perplexity,
                             int64_t num_vars, const torch::Tensor& features_pen) const;

 private:
  std::vector<double> loss_weights_;
};

}  // namespace w2v::train
