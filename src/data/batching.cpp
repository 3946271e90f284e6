#include "data/batching.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "util/error.h"

namespace w2v::data {
namespace {

// Fisher-Yates with our own bounded draw, so the permutation does not depend on the
// standard library's distribution implementation.
template <typename T>
void permute(std::vector<T>& v, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng() % i)]);
}

}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  auto splitmix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  return splitmix(splitmix(splitmix(seed) ^ a) ^ b);
}

std::vector<int64_t> ordered_indices(const std::vector<int64_t>& sizes, bool shuffle, uint64_t seed) {
  // fairseq: lexsort by (size, tie key) reversed, so ties come out in descending tie key.
  std::vector<int64_t> tie(sizes.size());
  std::iota(tie.begin(), tie.end(), 0);
  if (shuffle) permute(tie, seed);
  std::vector<int64_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (sizes[a] != sizes[b]) return sizes[a] > sizes[b];
    return tie[a] > tie[b];
  });
  return order;
}

BatchIndices batch_by_size(const std::vector<int64_t>& indices, const std::vector<int64_t>& sizes,
                           int64_t max_tokens, int64_t max_sentences, int64_t required_batch_size_multiple) {
  const int64_t mult = std::max<int64_t>(1, required_batch_size_multiple);
  BatchIndices batches;
  std::vector<int64_t> batch, lens;
  int64_t sample_len = 0;
  for (int64_t idx : indices) {
    if (idx < 0 || idx >= static_cast<int64_t>(sizes.size()))
      throw Error("batch_by_size: index " + std::to_string(idx) + " out of range");
    const int64_t n = sizes[static_cast<size_t>(idx)];
    lens.push_back(n);
    sample_len = std::max(sample_len, n);
    if (max_tokens > 0 && sample_len > max_tokens)
      throw Error("item " + std::to_string(idx) + " has " + std::to_string(sample_len) +
                  " samples, more than max_tokens " + std::to_string(max_tokens) +
                  " (raise max_tokens; in pretraining max_sample_size also caps it)");
    const int64_t tokens = (static_cast<int64_t>(batch.size()) + 1) * sample_len;
    const int64_t count = static_cast<int64_t>(batch.size());
    const bool full = count > 0 && ((max_sentences > 0 && count == max_sentences) || (max_tokens > 0 && tokens > max_tokens));
    if (full) {
      const int64_t keep = std::max(mult * (count / mult), count % mult);
      batches.emplace_back(batch.begin(), batch.begin() + keep);
      batch.erase(batch.begin(), batch.begin() + keep);
      lens.erase(lens.begin(), lens.begin() + keep);
      sample_len = lens.empty() ? 0 : *std::max_element(lens.begin(), lens.end());
    }
    batch.push_back(idx);
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  return batches;
}

void shuffle_batches(BatchIndices& batches, uint64_t seed) { permute(batches, seed); }

BatchIndices shard_batches(const BatchIndices& batches, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw Error("bad distributed rank " + std::to_string(rank) + " of world size " + std::to_string(world_size));
  const size_t per_rank = batches.size() / static_cast<size_t>(world_size);
  BatchIndices out;
  for (size_t k = 0; k < per_rank; ++k) out.push_back(batches[k * world_size + rank]);
  return out;
}

}  // namespace w2v::data
