// A small bigram LM for decoder tests: log10 probabilities drawn at random (seeded), so that
// every word/context pair scores differently. Vocabulary: <unk>=0, <s>=1, </s>=2, then words.
#pragma once

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "lm/language_model.h"

namespace w2v::decode::testing {

class BigramLm : public lm::LanguageModel {
 public:
  BigramLm(const std::vector<std::string>& words, unsigned seed) : names_{"<unk>", "<s>", "</s>"} {
    for (const auto& w : words) names_.push_back(w);
    for (size_t i = 0; i < names_.size(); ++i) ids_[names_[i]] = static_cast<lm::WordIndex>(i);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-2.5f, -0.1f);
    table_.resize(names_.size() * names_.size());
    for (auto& x : table_) x = u(rng);
  }
  // Overrides log10 P(word | prev).
  void set(const std::string& prev, const std::string& word, float log10_prob) {
    table_[ids_.at(prev) * names_.size() + ids_.at(word)] = log10_prob;
  }

  int order() const override { return 2; }
  lm::State begin() const override { return context(1); }
  lm::State null_context() const override { return lm::State(); }
  lm::ScoreResult score(const lm::State& state, lm::WordIndex word) const override {
    return {table_[prev(state) * names_.size() + word], context(word)};
  }
  float finish(const lm::State& state) const override { return table_[prev(state) * names_.size() + 2]; }
  lm::WordIndex index(const std::string& word) const override {
    auto it = ids_.find(word);
    return it == ids_.end() ? 0 : it->second;
  }
  lm::WordIndex unk_index() const override { return 0; }
  size_t vocab_size() const override { return names_.size(); }

 private:
  static lm::State context(lm::WordIndex w) {
    lm::State s;
    s.words[0] = w;
    s.length = 1;
    return s;
  }
  static size_t prev(const lm::State& s) { return s.length ? s.words[0] : 0; }
  std::vector<std::string> names_;
  std::unordered_map<std::string, lm::WordIndex> ids_;
  std::vector<float> table_;
};

}  // namespace w2v::decode::testing
