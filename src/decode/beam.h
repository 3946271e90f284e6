// The candidate pool shared by the beam-search decoders (flashlight's candidatesAdd/Store):
// candidates scoring more than `threshold` below the running best are not kept; at the end of a
// frame, equal-state candidates are merged (max or log-add of scores, the best one's history
// kept) and the best `beam` survive. Hyp needs `double score` and a static
// `int compare_state(const Hyp&, const Hyp&)` (three-way, over everything but score/history)
// with a matching `size_t hash_state(const Hyp&)`.
// Buffers are reused across frames and utterances.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lm/language_model.h"

namespace w2v::decode {

// Three-way order of LM states, for sorting equal states next to each other.
inline int compare_lm_state(const lm::State& a, const lm::State& b) {
  if (a.length != b.length) return a.length < b.length ? -1 : 1;
  for (int i = 0; i < a.length; ++i)
    if (a.words[i] != b.words[i]) return a.words[i] < b.words[i] ? -1 : 1;
  return 0;
}

template <class Hyp>
class CandidatePool {
 public:
  void reset() {
    best_ = -std::numeric_limits<double>::infinity();
    candidates_.clear();
  }
  double best() const { return best_; }

  void add(double threshold, const Hyp& h) {
    if (h.score >= best_) best_ = h.score;
    if (h.score >= best_ - threshold) candidates_.push_back(h);
  }

  // Moves the surviving candidates into out; sorted best first when `sorted`.
  void store(std::vector<Hyp>& out, int beam, double threshold, bool log_add, bool sorted) {
    out.clear();
    order_.clear();
    const double floor = best_ - threshold;
    // Merge equal states through an open-addressing table (linear in the candidates; sorting
    // them, as flashlight does, costs a third of the decoding time). On equal scores the
    // earlier candidate keeps its history, so results never depend on table layout.
    size_t size = 16;
    while (size < 2 * candidates_.size()) size *= 2;
    table_.assign(size, -1);
    single_.resize(candidates_.size());
    const size_t mask = size - 1;
    for (int i = 0; i < static_cast<int>(candidates_.size()); ++i) {
      Hyp& c = candidates_[i];
      if (c.score < floor) continue;
      size_t slot = Hyp::hash_state(c) & mask;
      while (table_[slot] >= 0 && Hyp::compare_state(candidates_[table_[slot]], c) != 0) slot = (slot + 1) & mask;
      if (table_[slot] < 0) {
        table_[slot] = i;
        order_.push_back(i);
        single_[i] = c.score;
        continue;
      }
      // The merged hypothesis keeps the history of the best single candidate (flashlight's
      // sort by score within a state), whatever the scores summed so far under log-add.
      const int rep = table_[slot];
      Hyp& into = candidates_[rep];
      const double hi = std::max(into.score, c.score), lo = std::min(into.score, c.score);
      const double merged = log_add ? hi + std::log1p(std::exp(lo - hi)) : hi;
      if (c.score > single_[rep]) {
        single_[rep] = c.score;
        into = c;
      }
      into.score = merged;
    }
    auto by_score = [&](int a, int b) {
      if (candidates_[a].score != candidates_[b].score) return candidates_[a].score > candidates_[b].score;
      return a < b;
    };
    const int kept = static_cast<int>(order_.size());
    const int n = std::min(kept, beam);
    if (sorted) {
      std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), by_score);
    } else if (kept > beam) {
      std::nth_element(order_.begin(), order_.begin() + n, order_.end(), by_score);
    }
    for (int i = 0; i < n; ++i) out.push_back(candidates_[order_[i]]);
  }

 private:
  double best_ = -std::numeric_limits<double>::infinity();
  std::vector<Hyp> candidates_;
  std::vector<int> order_;
  std::vector<int> table_;
  std::vector<double> single_;  // per representative: its best single candidate's score
};

// Mixes a value into a running hash (64-bit FNV-style multiply-xor).
inline size_t hash_mix(size_t h, uint64_t v) { return (h ^ v) * 1099511628211ull; }

// Indices of the k largest entries of row (all when k >= n), best first; ties by lower index.
inline void top_tokens(const float* row, int n, int k, std::vector<int>& idx) {
  idx.resize(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  if (k < n) {
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [row](int a, int b) {
      return row[a] != row[b] ? row[a] > row[b] : a < b;
    });
    idx.resize(k);
  }
}

}  // namespace w2v::decode
