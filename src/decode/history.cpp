#include "decode/history.h"

#include <algorithm>

#include "util/error.h"

namespace w2v::decode {

void BeamHistory::reset() {
  nodes_.clear();
  frame_end_.clear();
  settled_token_.clear();
  settled_word_.clear();
  next_collect_ = min_collect_;
  peak_ = 0;
}

void BeamHistory::collect(std::vector<int>& live) {
  const int n = static_cast<int>(nodes_.size());
  mark_.assign(n, 0);
  for (int id : live)
    if (id >= 0) mark_[id] = 1;
  // Parents are always nodes of an earlier frame, so of a smaller id: one reverse sweep marks
  // every ancestor of a live node.
  for (int i = n - 1; i >= 0; --i)
    if (mark_[i] && nodes_[i].parent >= 0) mark_[nodes_[i].parent] = 1;

  // Frames where exactly one node is reached are shared by every live hypothesis; so are all
  // frames before them. The last frame (the live nodes themselves) always stays.
  const int frames = static_cast<int>(frame_end_.size());
  int settle = 0;
  for (; settle + 1 < frames; ++settle) {
    const int begin = settle ? frame_end_[settle - 1] : 0;
    int reached = -1, count = 0;
    for (int i = begin; i < frame_end_[settle] && count < 2; ++i)
      if (mark_[i]) reached = i, ++count;
    if (count != 1) break;
    settled_token_.push_back(nodes_[reached].token);
    settled_word_.push_back(nodes_[reached].word);
  }

  remap_.assign(n, kStart);
  int kept = 0;
  std::vector<int> frame_end;
  for (int f = settle; f < frames; ++f) {
    for (int i = f ? frame_end_[f - 1] : 0; i < frame_end_[f]; ++i) {
      if (!mark_[i]) continue;
      Node node = nodes_[i];
      node.parent = node.parent >= 0 ? remap_[node.parent] : kStart;  // settled parents map to kStart
      remap_[i] = kept;
      nodes_[kept++] = node;
    }
    frame_end.push_back(kept);
  }
  nodes_.resize(kept);
  frame_end_ = std::move(frame_end);
  for (int& id : live)
    if (id >= 0) id = remap_[id];
  next_collect_ = std::max<int64_t>(min_collect_, 2 * static_cast<int64_t>(kept));
}

void BeamHistory::backtrack(int node, std::vector<int>& path, std::vector<int>& words) const {
  const int settled = static_cast<int>(settled_token_.size());
  const int frames = settled + static_cast<int>(frame_end_.size());
  path.assign(frames, 0);
  words.assign(frames, -1);
  std::copy(settled_token_.begin(), settled_token_.end(), path.begin());
  std::copy(settled_word_.begin(), settled_word_.end(), words.begin());
  if (node == kShadow) throw Error("beam history: a hypothesis without a path reached the n-best");
  int t = frames - 1;
  for (int id = node; id >= 0; id = nodes_[id].parent, --t) {
    path[t] = nodes_[id].token;
    words[t] = nodes_[id].word;
  }
  if (t != settled - 1) throw Error("beam history: a back-pointer chain does not span the decoded frames");
}

int64_t BeamHistory::bytes() const {
  return static_cast<int64_t>(nodes_.capacity() * sizeof(Node) + (frame_end_.capacity() + remap_.capacity()) * sizeof(int) +
                              mark_.capacity());
}

void WordHistories::reset() {
  index_.clear();
  next_id_ = 1;  // 0 is the empty sequence
  next_collect_ = min_collect_;
  peak_ = 0;
}

int WordHistories::child(int parent, int word) {
  auto [it, inserted] = index_.emplace(key(parent, word), next_id_);
  if (inserted) ++next_id_;
  return it->second;
}

void WordHistories::collect(std::vector<int>& live) {
  peak_ = std::max(peak_, size());
  // Live ids are renumbered densely (0 stays the empty sequence), so ids never run out.
  remap_.clear();
  remap_.emplace(0, 0);
  for (int id : live) remap_.emplace(id, static_cast<int>(remap_.size()));
  std::unordered_map<uint64_t, int> kept;
  for (const auto& [k, id] : index_) {
    auto parent = remap_.find(static_cast<int>(k >> 32)), child = remap_.find(id);
    if (parent != remap_.end() && child != remap_.end())
      kept.emplace(key(parent->second, static_cast<int>(static_cast<uint32_t>(k))), child->second);
  }
  index_ = std::move(kept);
  for (int& id : live) id = remap_.at(id);
  next_id_ = static_cast<int>(remap_.size());
  next_collect_ = std::max<int64_t>(min_collect_, 2 * size());
}

int64_t WordHistories::bytes() const {
  // An unordered_map node: key, value, next pointer, cached hash; plus its bucket pointer.
  const size_t node = sizeof(uint64_t) + sizeof(int) + sizeof(void*) + sizeof(size_t);
  return static_cast<int64_t>(index_.size() * node + index_.bucket_count() * sizeof(void*) +
                              remap_.size() * node + remap_.bucket_count() * sizeof(void*));
}

}  // namespace w2v::decode
