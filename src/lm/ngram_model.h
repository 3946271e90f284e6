// Back-off n-gram model with KenLM's query semantics, loaded from ARPA (plain or .gz) or from
// w2v's binary format (read whole into huge-page memory: lm/model_memory.h); KenLM's own binaries: lm/kenlm_model.h. Both loaders produce the very same in-memory layout
// (probing hash tables keyed by 64-bit n-gram hashes, as KenLM's "probing" structure), so ARPA
// and binary models score identically by construction.
//
// Scoring: log10 P(w | h) = log10 p(h_k w) + sum_{j>k} bo(h_j), h_k the longest listed context.
// State minimisation: the next state is the longest suffix of (h w) that can still matter, i.e.
// that extends to a longer n-gram or carries a non-zero backoff; equal states score equally.
//
// Binary format (native byte order, checked on load): a Header (magic "w2vNGRAM", version,
// endianness marker, counts, table sizes, section offsets) followed by the unigram array,
// one probing table per order >= 2, the vocabulary hash, string offsets and word strings.
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
  static std::unique_ptr<NgramModel> from_arpa(const std::string& path);
  static std::unique_ptr<NgramModel> from_binary(const std::string& path);
  // Binary if the file starts with the binary magic, ARPA (plain or gzip) otherwise.
  static std::unique_ptr<NgramModel> load(const std::string& path);
  ~NgramModel() override;

  // Writes the binary format atomically.
  void write_binary(const std::string& path) const;

  using BackoffModel::index;
  using BackoffModel::score;
  int order() const override;
  State begin() const override;
  State null_context() const override { return State(); }
  WordIndex unk_index() const override;
  size_t vocab_size() const override;
  float score(const State& in, WordIndex word, State* out, int* ngram_length) const override;
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
  static void validate_binary(const std::string& path, const Header& h, const char* base, uint64_t size);
  const Entry* find(int order, uint64_t key) const;

  const Header* header_ = nullptr;
  const Entry* tables_[kMaxOrder] = {};  // [0] unigrams indexed by id, [k] order k+1 probing table
  const VocabSlot* vocab_ = nullptr;
  const uint64_t* string_offsets_ = nullptr;
  const char* strings_ = nullptr;

  std::string owned_strings_;  // ARPA-loaded: word strings
  void* map_ = nullptr;        // binary-loaded: the file's mapping; ARPA-loaded: header and tables
  size_t map_size_ = 0;
};

// The one LM-opening function (lm query, lexicon, the decoders, train's validation): w2v binary,
// KenLM binary (probing or trie, lm/kenlm_model.h), ARPA or ARPA.gz, detected from the content.
std::unique_ptr<BackoffModel> open_language_model(const std::string& path);
// The decoders' name for it.
std::unique_ptr<LanguageModel> load_language_model(const std::string& path);

}  // namespace w2v::lm
