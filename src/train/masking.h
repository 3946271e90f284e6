// fairseq compute_mask_indices (spec 2.2, 2.3): random spans over the valid frames (time
// masks) or over the channels (channel masks) of each row. Contract: padded frames (index >=
// the row's valid length) are never masked; with require_same_masks every row ends with
// exactly the same count, the minimum over rows (random frames of the longer rows un-masked).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "train/random.h"

namespace w2v::train {

struct MaskOptions {
  double prob = 0.65;  // fairseq mask_prob: expected fraction of span starts * length
  int64_t length = 10;
  std::string selection = "static";  // static | uniform | normal | poisson
  double other = 0.0;                // mask_other (uniform lower bound, normal std)
  int64_t min_masks = 0;             // fairseq apply_mask passes 2 for time masks
  bool require_same_masks = true;
  double mask_dropout = 0.0;
};

// Per row, the sorted masked indices. valid_lengths[i] = unpadded frames of row i (the whole
// row when there is no padding). Throws w2v::Error for an unknown selection or a row that
// cannot hold a mask (length < 2).
std::vector<std::vector<int64_t>> compute_mask_indices(const std::vector<int64_t>& valid_lengths,
                                                       const MaskOptions& options, MaskRandom& rng);

// The same as a [B, T] bool tensor (true = masked).
torch::Tensor mask_tensor(const std::vector<std::vector<int64_t>>& indices, int64_t T);

// Valid frames per row from a [B, T] frame padding mask (true = padded); all T if undefined.
std::vector<int64_t> valid_lengths(const torch::Tensor& frame_padding_mask, int64_t B, int64_t T);

}  // namespace w2v::train
