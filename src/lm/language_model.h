// The language-model interface the decoders see. One interface serves ARPA-loaded models,
// memory-mapped binary models and token-level (character) models.
//
// Contract: scores are log10 probabilities (KenLM's convention). A State is a small value type
// (the id sequence of the longest context the model can use, right-aligned); equal states
// give equal future scores, so the decoder may merge hypotheses whose states compare equal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace w2v::lm {

using WordIndex = uint32_t;

// Context of at most kMaxOrder - 1 words, most recent first. Only words[0, length) count: the
// models leave the slots past `length` as they were (as KenLM does), so equality, hashing and
// ordering look at the valid words only. A default State is empty with every slot kNoWord.
constexpr int kMaxOrder = 8;
constexpr WordIndex kNoWord = 0xFFFFFFFFu;

struct State {
  std::array<WordIndex, kMaxOrder - 1> words;
  uint8_t length = 0;  // number of valid entries in words
  // backoff[i]: log10 backoff of the context words[i..0], cached by the model that made the
  // state (as KenLM's state does) so scoring charges backoffs without looking them up again.
  // A function of the words, hence not part of equality or the hash.
  std::array<float, kMaxOrder - 1> backoff{};
  State() { words.fill(kNoWord); }
  bool operator==(const State& o) const {
    if (length != o.length) return false;
    for (int i = 0; i < length; ++i)
      if (words[i] != o.words[i]) return false;
    return true;
  }
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

// A word-level back-off model as KenLM's `query` sees it (w2v's NgramModel, KenLM binaries):
// adds what query and lexicon need to the decoders' interface.
class BackoffModel : public LanguageModel {
 public:
  using LanguageModel::index;
  // KenLM's FullScore: log10 P(word | in), the state after it written to *out (which must not
  // be `in`), and the length of the n-gram it matched (1 = unigram) to *ngram_length if given.
  // Chained lookups should alternate two states: copying a returned 64-byte state made each
  // lookup wait on the previous one's stores (a failed store-to-load forward), 1.5x slower.
  virtual float score(const State& in, WordIndex word, State* out, int* ngram_length) const = 0;
  // The same, returning the state.
  ScoreResult score(const State& state, WordIndex word, int* ngram_length) const {
    ScoreResult r;
    r.log10_prob = score(state, word, &r.next, ngram_length);
    return r;
  }
  ScoreResult score(const State& state, WordIndex word) const override { return score(state, word, nullptr); }
  // Scores words[0, n) in turn from *state (FullScore on each, the state carried along): log10 p
  // to probs[i], the n-gram length to lengths[i] when lengths is given; *state ends as the state
  // after the last word. One virtual call per sequence: a final model's override runs
  // score_sequence below on itself, so each word's score is a direct, inlined call.
  virtual void score_words(State* state, const WordIndex* words, size_t n, float* probs, int* lengths) const;
  float finish(const State& state) const override { return score(state, eos_index(), nullptr).log10_prob; }
  virtual WordIndex index(std::string_view word) const = 0;
  WordIndex index(const std::string& word) const override { return index(std::string_view(word)); }
  virtual WordIndex bos_index() const = 0;
  virtual WordIndex eos_index() const = 0;
  // Word string of a vocabulary id; empty when the id is out of range.
  virtual std::string_view word(WordIndex id) const = 0;
  // False for a model file that carries no word strings (then word() is always empty).
  virtual bool has_words() const { return true; }
};

// The sequence loop of BackoffModel::score_words for a model of static type M (a final class's
// calls are direct); two states alternate (score(in, word, out, ...) above says why).
template <class M>
void score_sequence(const M& model, State* state, const WordIndex* words, size_t n, float* probs, int* lengths) {
  State other;
  State* in = state;
  State* out = &other;
  for (size_t i = 0; i < n; ++i) {
    probs[i] = model.score(*in, words[i], out, lengths ? lengths + i : nullptr);
    std::swap(in, out);
  }
  if (in != state) *state = *in;
}

inline void BackoffModel::score_words(State* state, const WordIndex* words, size_t n, float* probs, int* lengths) const {
  score_sequence(*this, state, words, n, probs, lengths);
}

}  // namespace w2v::lm
