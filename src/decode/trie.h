// Prefix tree over token spellings with LM look-ahead (flashlight's Trie with MAX smearing,
// spec 8.3). A node ending spellings holds up to kMaxLabels (word, score) pairs; max_score of a
// node = max(log-add of its own word scores, children's max_score) after smear().
// Built once, then frozen into flat arrays for the decoder's hot loop.
#pragma once

#include <map>
#include <vector>

namespace w2v::decode {

class Trie {
 public:
  static constexpr int kMaxLabels = 6;
  static constexpr int kRoot = 0;

  Trie();
  // Adds a spelling ending in word `word` with look-ahead score `score`. Returns false (and keeps
  // the trie unchanged) when the end node already holds kMaxLabels words.
  bool insert(const std::vector<int>& spelling, int word, float score);
  // MAX smearing, then freezes the children into sorted flat arrays.
  void smear();

  bool has_children(int node) const { return nodes_[node].num_children > 0; }
  // Children as a range [first_child, first_child + num_children) of (child_token, child_node).
  int first_child(int node) const { return nodes_[node].first_child; }
  int num_children(int node) const { return nodes_[node].num_children; }
  int child_token(int i) const { return child_token_[i]; }
  int child_node(int i) const { return child_node_[i]; }
  float max_score(int node) const { return nodes_[node].max_score; }
  const std::vector<int>& words(int node) const { return nodes_[node].words; }
  const std::vector<float>& scores(int node) const { return nodes_[node].scores; }
  int size() const { return static_cast<int>(nodes_.size()); }

 private:
  struct Node {
    std::vector<int> words;
    std::vector<float> scores;
    float max_score = 0;
    int first_child = 0, num_children = 0;
  };
  std::vector<Node> nodes_;
  std::vector<std::map<int, int>> building_;  // token -> child while inserting
  std::vector<int> child_token_, child_node_;
};

}  // namespace w2v::decode
