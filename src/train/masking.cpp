#include "train/masking.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace w2v::train {

std::vector<std::vector<int64_t>> compute_mask_indices(const std::vector<int64_t>& valid_lengths,
                                                       const MaskOptions& o, MaskRandom& rng) {
  if (o.selection != "static" && o.selection != "uniform" && o.selection != "normal" &&
      o.selection != "poisson")
    throw Error("mask selection '" + o.selection +
                "' is not supported (expected static, uniform, normal or poisson)");
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(valid_lengths.size());
  for (const int64_t sz : valid_lengths) {
    if (sz < 2)
      throw Error("cannot mask a sequence of " + std::to_string(sz) +
                  " frames (need at least 2); raise task.min_sample_size");
    int64_t num_mask = static_cast<int64_t>(o.prob * static_cast<double>(sz) /
                                                static_cast<double>(o.length) +
                                            rng.uniform());
    num_mask = std::max(o.min_masks, num_mask);
    std::vector<int64_t> lengths(num_mask, o.length);
    if (o.selection == "uniform") {
      const int64_t lo = static_cast<int64_t>(o.other), hi = o.length * 2 + 1;
      for (auto& l : lengths) l = lo + rng.below(hi - lo);
    } else if (o.selection == "normal") {
      for (auto& l : lengths)
        l = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(rng.normal(o.length, o.other))));
    } else if (o.selection == "poisson") {
      for (auto& l : lengths) l = rng.poisson(static_cast<double>(o.length));
    }
    if (num_mask > 0 && std::accumulate(lengths.begin(), lengths.end(), int64_t{0}) == 0)
      lengths[0] = std::min(o.length, sz - 1);
    std::vector<int64_t> idx;
    if (num_mask > 0) {
      int64_t min_len = *std::min_element(lengths.begin(), lengths.end());
      if (sz - min_len <= num_mask) min_len = sz - num_mask - 1;
      const std::vector<int64_t> starts = rng.choose(sz - min_len, num_mask);
      for (size_t j = 0; j < starts.size(); ++j)
        for (int64_t off = 0; off < lengths[j]; ++off)
          if (starts[j] + off < sz) idx.push_back(starts[j] + off);
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    }
    if (static_cast<int64_t>(idx.size()) >= sz)
      throw Error("mask_prob " + std::to_string(o.prob) + " with length " +
                  std::to_string(o.length) + " masks all " + std::to_string(sz) +
                  " frames of a row; lower the mask probability");
    rows.push_back(std::move(idx));
  }
  size_t min_len = SIZE_MAX;
  for (const auto& r : rows) min_len = std::min(min_len, r.size());
  for (auto& r : rows) {
    auto keep = [&](size_t count) {
      const std::vector<int64_t> pick = rng.choose(static_cast<int64_t>(r.size()), count);
      std::vector<int64_t> kept;
      for (int64_t p : pick) kept.push_back(r[p]);
      r = std::move(kept);
    };
    if (o.require_same_masks && r.size() > min_len) keep(min_len);
    if (o.mask_dropout > 0) {
      const auto holes = static_cast<size_t>(std::nearbyint(r.size() * o.mask_dropout));
      keep(r.size() - holes);
    }
    std::sort(r.begin(), r.end());
  }
  return rows;
}

torch::Tensor mask_tensor(const std::vector<std::vector<int64_t>>& indices, int64_t T) {
  auto mask = torch::zeros({static_cast<int64_t>(indices.size()), T}, torch::kBool);
  auto acc = mask.accessor<bool, 2>();
  for (size_t i = 0; i < indices.size(); ++i)
    for (int64_t t : indices[i]) acc[i][t] = true;
  return mask;
}

std::vector<int64_t> valid_lengths(const torch::Tensor& frame_padding_mask, int64_t B, int64_t T) {
  if (!frame_padding_mask.defined()) return std::vector<int64_t>(B, T);
  auto padded = frame_padding_mask.to(torch::kLong).sum(1).contiguous();
  std::vector<int64_t> out(B);
  for (int64_t i = 0; i < B; ++i) out[i] = T - padded[i].item<int64_t>();
  return out;
}

}  // namespace w2v::train
