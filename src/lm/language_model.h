// The language-model interface the decoders see. One interface serves ARPA-loaded models,
// memory-mapped binary models and token-level (character) models.
//
// Contract: scores are log10 probabilities (KenLM's convention). A State is a small value type
// (the id sequence of the longest context the model can use, right-aligned); equal states
// give equal future scores, so the decoder may merge hypotheses whose states compare equal.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace w2v::lm {

using WordIndex = uint32_t;

// Context of at most kMaxOrder - 1 words, most recent first; unused slots are kNoWord.
constexpr int kMaxOrder = 8;
constexpr WordIndex kNoWord = 0xFFFFFFFFu;

struct State {
  std::array<WordIndex, kMaxOrder - 1> words;
  uint8_t length = 0;  // number of valid entries in words
  State() { words.fill(kNoWord); }
  bool operator==(const State& o) const { return length == o.length && words == o.words; }
  bool operator!=(const State& o) const { return !(*this == o); }
};

struct StateHash {
  size_t operator()(const State& s) const {
    uint64_t h = 1469598103934665603ull ^ s.length;
    for (int i = 0; i < s.length; ++i) h = (h ^ s.words[i]) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

struct ScoreResult {
  float log10_prob;
  State next;
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual int order() const = 0;
  // State after "<s>".
  virtual State begin() const = 0;
  // State with no context (the null context, used before a sentence when <s> is not wanted).
  virtual State null_context() const = 0;
  // log10 P(word | state) and the state after it. Unknown words use <unk>'s probability.
  virtual ScoreResult score(const State& state, WordIndex word) const = 0;
  // log10 P(</s> | state).
  virtual float finish(const State& state) const = 0;
  // Vocabulary id of a word string; unk_index() if absent.
  virtual WordIndex index(const std::string& word) const = 0;
  virtual WordIndex unk_index() const = 0;
  virtual size_t vocab_size() const = 0;
};

}  // namespace w2v::lm
