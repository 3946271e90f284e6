// Interpolated modified Kneser-Ney estimation, reproducing KenLM's lmplz (see
// /work/shared/spec/ngram_lm.md): same vocabulary order, adjusted counts, three discounts per
// order from counts-of-counts (end-of-stream quirk included), pruning on raw counts, and
// backoff = gamma. The corpus is read streaming (plain or .gz, one sentence per line) into a
// compact id sequence; each order is counted by sorting packed n-gram keys, so memory is about
// (order*4 + 17) bytes per distinct n-gram plus 4 bytes per token.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace w2v::lm {

struct KneserNeyOptions {
  int order = 3;
  // Pruning thresholds per order (raw count <= t is dropped); the last value repeats; empty = none.
  std::vector<uint64_t> prune;
  // Keep only the V most frequent words (ties: first occurrence); 0 keeps all. N-grams with a
  // dropped word are pruned, as lmplz's --limit_vocab_file does.
  uint64_t vocab_limit = 0;
  // Discounts used for an order whose closed-form discounts fail (lmplz --discount_fallback);
  // empty = fail with an error. The last value repeats up to three.
  std::vector<double> discount_fallback;
  // Turn <s>, </s>, <unk> in the corpus into whitespace instead of failing.
  bool skip_symbols = false;
  // false = SRILM style (lmplz --interpolate_unigrams 0): unigrams get no uniform share and
  // <unk> gets the whole leftover mass.
  bool interpolate_unigrams = true;
  // Token-level model: every UTF-8 character of a word is a token, and "|" ends each word.
  bool letters = false;
};

struct Discounts {
  double d[4] = {0, 0, 0, 0};  // d[0] = 0, d[1], d[2], d[3] = D3+
  bool fallback = false;
};

struct KneserNeyStats {
  uint64_t tokens = 0;  // words read (no </s>)
  uint64_t types = 0;   // vocabulary size including <unk>, <s>, </s>
  std::vector<uint64_t> total, kept;  // n-grams per order before/after pruning
  std::vector<Discounts> discounts;
};

// Estimates the model from `corpus` and writes it as ARPA (gzip if the name ends in .gz),
// atomically. Progress and lmplz-style statistics go to `log` when given. Throws w2v::Error on
// bad options, special words in the corpus, or discounts that cannot be estimated.
KneserNeyStats estimate_kneser_ney(const std::string& corpus, const std::string& arpa_out,
                                   const KneserNeyOptions& options, std::ostream* log);

}  // namespace w2v::lm
