// What a beam search remembers of the past, kept bounded however long the input (issue 13):
// - BeamHistory: one back-pointer node (token, word) per hypothesis and frame. collect() drops
//   the nodes no live hypothesis reaches and moves the frames every live hypothesis shares
//   (their common prefix, settled for good) into a flat path, so memory grows with the beam and
//   the distance to the hypotheses' common ancestor, not with the length of the input.
// - WordHistories: interned word sequences (flashlight's LM-state tree, whose node identity is
//   the whole word history): equal sequences held by live hypotheses have equal ids. Only the
//   pairs (sequence, word) -> sequence whose both ends some live hypothesis holds are kept: a
//   sequence nobody holds can never be asked for again, and one held again later gets a fresh
//   id that no live hypothesis can hold under another.
// Neither changes a result: ids are compared for equality only, and backtracking gives the same
// path as without collection.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace w2v::decode {

class BeamHistory {
 public:
  static constexpr int kStart = -1;  // the parent of the first frame's nodes (and of settled ones)
  static constexpr int kShadow = -2;  // a hypothesis that keeps no path (mark_shadows)

  void reset();
  // A node of the frame being decoded (frame = number of end_frame() calls so far).
  int add(int parent, int token, int word) {
    nodes_.push_back({parent, token, word});
    return static_cast<int>(nodes_.size()) - 1;
  }
  void end_frame() {
    frame_end_.push_back(static_cast<int>(nodes_.size()));
    peak_ = std::max<int64_t>(peak_, static_cast<int64_t>(nodes_.size()));
  }
  // Collects when the arena has doubled since the last collection (amortised O(1) per node).
  // `live` (the current hypotheses' node ids, all of the last frame) is rewritten in place.
  void maybe_collect(std::vector<int>& live) {
    if (static_cast<int64_t>(nodes_.size()) >= next_collect_) collect(live);
  }
  void collect(std::vector<int>& live);
  // Smallest arena size that triggers a collection (tests lower it to collect every frame).
  void set_min_collect(int64_t nodes) { min_collect_ = nodes; }

  // Token and word id (-1: none) of every frame, ending at `node` (a node of the last frame).
  void backtrack(int node, std::vector<int>& path, std::vector<int>& words) const;

  int64_t nodes() const { return static_cast<int64_t>(nodes_.size()); }
  int64_t peak_nodes() const { return peak_; }
  // Bytes held now by the arena and its frame index (not the settled prefix: that is the
  // result's path, 8 bytes per frame).
  int64_t bytes() const;

 private:
  struct Node {
    int parent, token, word;
  };
  std::vector<Node> nodes_;
  std::vector<int> frame_end_;  // node id end of each unsettled frame
  std::vector<int> settled_token_, settled_word_;
  std::vector<char> mark_;
  std::vector<int> remap_;
  int64_t next_collect_ = 0, min_collect_ = 1 << 16, peak_ = 0;
};

class WordHistories {
 public:
  void reset();
  int root() const { return 0; }
  // The id of sequence(parent) + word (word may be any int, e.g. -1 for end of sentence).
  int child(int parent, int word);
  // Same policy as BeamHistory; `live` rewritten in place.
  void maybe_collect(std::vector<int>& live) {
    if (size() >= next_collect_) collect(live);
  }
  void collect(std::vector<int>& live);
  void set_min_collect(int64_t size) { min_collect_ = size; }
  // Interned (sequence, word) pairs held.
  int64_t size() const { return static_cast<int64_t>(index_.size()); }
  int64_t peak_size() const { return std::max(peak_, size()); }
  int64_t bytes() const;

 private:
  static uint64_t key(int parent, int word) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(parent)) << 32) | static_cast<uint32_t>(word);
  }
  std::unordered_map<uint64_t, int> index_;
  std::unordered_map<int, int> remap_;
  int next_id_ = 1;
  int64_t next_collect_ = 0, min_collect_ = 1 << 14, peak_ = 0;
};

// Sets history = kShadow on every hypothesis that `keep` others with the same state but their
// word history (Hyp::compare_state with words equal) beat strictly.
template <class Hyp>
void mark_shadows(std::vector<Hyp>& hyps, int keep, std::vector<int>& order) {
  auto future = [](Hyp h) {
    h.words = 0;
    return h;
  };
  std::vector<size_t> hash(hyps.size());
  order.resize(hyps.size());
  for (size_t i = 0; i < hyps.size(); ++i) hash[i] = Hyp::hash_state(future(hyps[i])), order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (hash[a] != hash[b]) return hash[a] < hash[b];
    if (int c = Hyp::compare_state(future(hyps[a]), future(hyps[b]))) return c < 0;
    return hyps[a].score > hyps[b].score;
  });
  for (size_t begin = 0, end; begin < order.size(); begin = end) {
    end = begin + 1;
    while (end < order.size() && hash[order[end]] == hash[order[begin]] &&
           Hyp::compare_state(future(hyps[order[end]]), future(hyps[order[begin]])) == 0)
      ++end;
    for (size_t i = begin + keep; i < end; ++i)
      if (hyps[order[i]].score < hyps[order[begin + keep - 1]].score) hyps[order[i]].history = BeamHistory::kShadow;
  }
}

// After a frame's candidates are stored: gives each hypothesis its own back-pointer node (from
// its parent's node in `h.history`, its `h.token` and word_of(h)) and lets both histories
// collect, rewriting the ids the hypotheses hold. `words` is null when no word histories are
// kept (MergeMode::kState).
// keep_per_state > 0 (history merging with max, nbest = keep_per_state): hypotheses equal but
// for their word history have the same future, so one that keep_per_state others beat strictly
// can never reach the n-best; it stays in the beam (it still takes a slot, as in flashlight) but
// keeps no path (kShadow), which bounds memory as state merging does.
template <class Hyp, class WordOf>
void record_frame(std::vector<Hyp>& hyps, BeamHistory& history, WordHistories* words, std::vector<int>& scratch,
                  WordOf word_of, int keep_per_state = 0) {
  if (keep_per_state > 0) mark_shadows(hyps, keep_per_state, scratch);
  scratch.clear();
  for (Hyp& h : hyps) {
    if (h.history != BeamHistory::kShadow) h.history = history.add(h.history, h.token, word_of(h));
    scratch.push_back(h.history);
  }
  history.end_frame();
  history.maybe_collect(scratch);
  for (size_t i = 0; i < hyps.size(); ++i) hyps[i].history = scratch[i];
  if (!words) return;
  for (size_t i = 0; i < hyps.size(); ++i) scratch[i] = hyps[i].words;
  words->maybe_collect(scratch);
  for (size_t i = 0; i < hyps.size(); ++i) hyps[i].words = scratch[i];
}

}  // namespace w2v::decode
