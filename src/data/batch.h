// One collated mini-batch, in fairseq's layout (net_input.source / padding_mask, target,
// target_lengths, ntokens, id).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace w2v::data {

struct Batch {
  torch::Tensor source;          // [B, L] float32
  torch::Tensor padding_mask;    // [B, L] bool, true = padding; undefined in pretraining (pad = false)
  torch::Tensor target;          // [B, S] int64, right-padded with Dictionary::kPad; undefined without labels
  torch::Tensor target_lengths;  // [B] int64; undefined without labels
  std::vector<int64_t> ids;      // dataset indices, in row order
  int64_t ntokens = 0;           // sum of target_lengths (0 without labels)
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

// fairseq's RawAudioDataset.collater on loaded items. pad = false: every item is cropped to
// min(shortest, max_sample_size) at an independent uniform random offset, no mask.
// pad = true: target length min(longest, max_sample_size); longer items cropped, shorter ones
// zero-padded at the end with mask true there (the mask is always set, as fairseq does).
// crop_seed alone decides the offsets. max_sample_size 0 = unlimited. targets may be empty.
Batch collate(const std::vector<std::vector<float>>& audio,
              const std::vector<std::vector<int64_t>>& targets, std::vector<int64_t> ids,
              bool pad, int64_t max_sample_size, uint64_t crop_seed);

// Loads ids from the dataset and collates them with the dataset's options. augment (not null):
// item id is loaded with (*augment)[id] applied.
Batch collate(const AudioDataset& dataset, const std::vector<int64_t>& ids, uint64_t crop_seed,
              const std::vector<AugmentDraw>* augment = nullptr);

}  // namespace w2v::data
