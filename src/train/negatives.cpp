#include "train/negatives.h"

#include "util/error.h"

namespace w2v::train {

torch::Tensor sample_negatives(int64_t B, int64_t M, int64_t K, Rng& rng) {
  if (M < 2)
    throw Error("contrastive loss needs at least 2 masked frames per utterance, got " +
                std::to_string(M) + "; raise model.mask_prob or task.min_sample_size");
  auto out = torch::empty({B, M * K}, torch::kLong);
  auto acc = out.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < M; ++t)
      for (int64_t k = 0; k < K; ++k) {
        int64_t j = rng.below(M - 1);
        if (j >= t) ++j;
        acc[b][t * K + k] = j + b * M;
      }
  return out;
}

}  // namespace w2v::train
