// fairseq's batch construction (spec 7.3): order by size with a random tie-break, group
// greedily under max_tokens (batch_by_size), shuffle the batch order per epoch, deal batches
// to distributed ranks. Pure functions of their arguments and seeds.
#pragma once

#include <cstdint>
#include <vector>

namespace w2v::data {

using BatchIndices = std::vector<std::vector<int64_t>>;

// Indices sorted by size descending; equal sizes in a random order drawn from seed
// (shuffle = false: ties keep index order).
std::vector<int64_t> ordered_indices(const std::vector<int64_t>& sizes, bool shuffle, uint64_t seed);

// fairseq batch_by_size: walks indices, closing a batch when adding the next item would make
// (count * max size) exceed max_tokens or count reach max_sentences (0 = no limit for either);
// a closed batch keeps a multiple of required_batch_size_multiple items (or all when fewer)
// and the rest carry over. An item larger than max_tokens is an error naming its index.
BatchIndices batch_by_size(const std::vector<int64_t>& indices, const std::vector<int64_t>& sizes,
                           int64_t max_tokens, int64_t max_sentences,
                           int64_t required_batch_size_multiple);

// Deterministic permutation of the batch order from seed (fairseq: seed + epoch).
void shuffle_batches(BatchIndices& batches, uint64_t seed);

// Batches rank, rank + world_size, ...; the last (size % world_size) batches are dropped so
// that every rank runs the same number of steps (fairseq pads with empty batches instead).
BatchIndices shard_batches(const BatchIndices& batches, int rank, int world_size);

// 64-bit mix of a seed with further values (splitmix64), for per-epoch / per-batch streams.
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0);

}  // namespace w2v::data
