#include "data/batch.h"

#include <algorithm>
#include <random>

#include "data/batching.h"
#include "data/dictionary.h"

namespace w2v::data {

Batch collate(const std::vector<std::vector<float>>& audio, const std::vector<std::vector<int64_t>>& targets,
              std::vector<int64_t> ids, bool pad, int64_t max_sample_size, uint64_t crop_seed) {
  Batch b;
  b.ids = std::move(ids);
  const int64_t n = static_cast<int64_t>(audio.size());
  if (n == 0) return b;
  int64_t target_size = pad ? 0 : INT64_MAX;
  for (const auto& a : audio)
    target_size = pad ? std::max<int64_t>(target_size, a.size()) : std::min<int64_t>(target_size, a.size());
  if (max_sample_size > 0) target_size = std::min(target_size, max_sample_size);

  b.source = torch::zeros({n, target_size}, torch::kFloat32);
  if (pad) b.padding_mask = torch::zeros({n, target_size}, torch::kBool);
  float* src = b.source.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& a = audio[static_cast<size_t>(i)];
    const int64_t size = static_cast<int64_t>(a.size());
    const int64_t diff = size - target_size;
    int64_t start = 0;
    if (diff > 0) {
      // One stream per row: a row's crop does not depend on the other rows.
      std::mt19937_64 rng(mix_seed(crop_seed, static_cast<uint64_t>(i)));
      start = static_cast<int64_t>(rng() % static_cast<uint64_t>(diff + 1));
    }
    const int64_t len = std::min(size, target_size);
    std::copy(a.begin() + start, a.begin() + start + len, src + i * target_size);
    if (pad && len < target_size) b.padding_mask[i].narrow(0, len, target_size - len).fill_(true);
  }

  if (!targets.empty()) {
    int64_t longest = 0;
    for (const auto& t : targets) longest = std::max<int64_t>(longest, t.size());
    b.target = torch::full({n, longest}, Dictionary::kPad, torch::kInt64);
    b.target_lengths = torch::zeros({n}, torch::kInt64);
    int64_t* tgt = b.target.data_ptr<int64_t>();
    int64_t* lens = b.target_lengths.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      const auto& t = targets[static_cast<size_t>(i)];
      std::copy(t.begin(), t.end(), tgt + i * longest);
      lens[i] = static_cast<int64_t>(t.size());
      b.ntokens += lens[i];
    }
  }
  return b;
}

Batch collate(const AudioDataset& dataset, const std::vector<int64_t>& ids, uint64_t crop_seed,
              const std::vector<AugmentDraw>* augment) {
  std::vector<std::vector<float>> audio;
  std::vector<std::vector<int64_t>> targets;
  for (int64_t id : ids) {
    audio.push_back(dataset.load(static_cast<size_t>(id), augment ? &(*augment)[static_cast<size_t>(id)] : nullptr));
    if (dataset.has_targets()) targets.push_back(dataset.target(static_cast<size_t>(id)));
  }
  return collate(audio, targets, ids, dataset.options().pad, dataset.options().max_sample_size, crop_seed);
}

}  // namespace w2v::data
