// Back-off n-gram model with KenLM's query semantics, loaded from ARPA (plain or .gz) into
// probing hash tables keyed by 64-bit n-gram hashes (KenLM's "probing" structure) in huge-page
// memory (lm/model_memory.h). Binary models are KenLM's own files (lm/kenlm_model.h), which
// `lm compile` writes; w2v's former binary format ("w2vNGRAM") is refused with a line saying so.
//
// Scoring: log10 P(w | h) = log10 p(h_k w) + sum_{j>k} bo(h_j), h_k the longest listed context.
// State minimisation: the next state is the longest suffix of (h w) that can still matter, i.e.
// that extends to a longer n-gram or carries a non-zero backoff; equal states score equally.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lm/language_model.h"

namespace w2v::lm {

class NgramModel final : public BackoffModel {
 public:
  // ARPA, plain or gzip (open_language_model below also detects binaries).
  static std::unique_ptr<NgramModel> from_arpa(const std::string& path);
  ~NgramModel() override;

  using BackoffModel::index;
  using BackoffModel::score;
  int order() const override;
  State begin() const override;
  State null_context() const override { return State(); }
  WordIndex unk_index() const override;
  size_t vocab_size() const override;
  float score(const State& in, WordIndex word, State* out, int* ngram_length) const override;
  void score_words(State* state, const WordIndex* words, size_t n, float* probs, int* lengths) const override;
  WordIndex index(std::string_view word) const override;
  WordIndex bos_index() const override;
  WordIndex eos_index() const override;
  // Word string of a vocabulary id (ids follow the ARPA unigram order).
  std::string_view word(WordIndex id) const override;
  // Number of n-grams of the given order (1-based) stored.
  uint64_t ngram_count(int order) const;
  // log10 probability and backoff of an n-gram given as ids in natural order; false if absent.
  bool lookup(const std::vector<WordIndex>& ngram, float* log10_prob, float* log10_backoff) const;

  struct Header;
  struct Entry;
  struct VocabSlot;

 private:
  NgramModel();
  void attach(const char* base);
  const Entry* find(int order, uint64_t key) const;

  const Header* header_ = nullptr;
  const Entry* tables_[kMaxOrder] = {};  // [0] unigrams indexed by id, [k] order k+1 probing table
  const VocabSlot* vocab_ = nullptr;
  const uint64_t* string_offsets_ = nullptr;
  const char* strings_ = nullptr;

  std::string owned_strings_;  // word strings
  void* map_ = nullptr;        // header and tables (model_memory)
  size_t map_size_ = 0;
};

// The one LM-opening function (lm query, lexicon, the decoders, train's validation): KenLM
// binary (probing or trie, lm/kenlm_model.h), ARPA or ARPA.gz, detected from the content.
std::unique_ptr<BackoffModel> open_language_model(const std::string& path);
// The decoders' name for it.
std::unique_ptr<LanguageModel> load_language_model(const std::string& path);

}  // namespace w2v::lm
