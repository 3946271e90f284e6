#include "decode/trie.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace w2v::decode {

namespace {

// flashlight's log-add: below exp(-39.14) the smaller term is dropped.
double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  double d = b - a;
  return d < -39.14 ? a : a + std::log1p(std::exp(d));
}

}  // namespace

Trie::Trie() : nodes_(1), building_(1) {}

bool Trie::insert(const std::vector<int>& spelling, int word, float score) {
  int node = kRoot;
  for (int token : spelling) {
    auto it = building_[node].find(token);
    if (it == building_[node].end()) {
      int next = static_cast<int>(nodes_.size());
      building_[node].emplace(token, next);
      nodes_.emplace_back();
      building_.emplace_back();
      node = next;
    } else {
      node = it->second;
    }
  }
  Node& n = nodes_[node];
  if (static_cast<int>(n.words.size()) >= kMaxLabels) return false;
  n.words.push_back(word);
  n.scores.push_back(score);
  return true;
}

void Trie::smear() {
  // Children always have larger indices than their parent, so one reverse sweep visits every
  // child before its parent (no recursion depth limit for long spellings).
  for (int i = size() - 1; i >= 0; --i) {
    float mx = -std::numeric_limits<float>::infinity();
    for (float s : nodes_[i].scores) mx = static_cast<float>(log_add(mx, s));
    for (const auto& [token, c] : building_[i]) mx = std::max(mx, nodes_[c].max_score);
    nodes_[i].max_score = mx;
  }
  child_token_.clear();
  child_node_.clear();
  for (int i = 0; i < size(); ++i) {
    nodes_[i].first_child = static_cast<int>(child_token_.size());
    nodes_[i].num_children = static_cast<int>(building_[i].size());
    for (const auto& [token, c] : building_[i]) {
      child_token_.push_back(token);
      child_node_.push_back(c);
    }
  }
}

}  // namespace w2v::decode
