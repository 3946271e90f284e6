// fairseq sample_negatives (spec 4.1): for every masked position t of utterance b, K
// distractors drawn uniformly with replacement from the other M - 1 masked positions of the
// same utterance. Indices point into the flattened [B * M] targets, layout [B, M * K] t-major,
// as Wav2Vec2Model::forward expects.
#pragma once

#include <torch/torch.h>

#include "train/random.h"

namespace w2v::train {

// Throws w2v::Error when M < 2 (no other masked position to draw from).
torch::Tensor sample_negatives(int64_t B, int64_t M, int64_t K, Rng& rng);

}  // namespace w2v::train
