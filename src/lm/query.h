// Scoring text the way KenLM's `query` does (ngram_lm.md section 8): per line <s> context,
// every word scored, </s> scored and counted as a token; OOVs (unknown words and the literal
// <unk>) counted apart; perplexity with and without OOVs. An unterminated last line is handled
// as KenLM does (its words count as tokens, its scores do not enter the total).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "lm/language_model.h"

namespace w2v::lm {

struct QuerySummary {
  double total = 0;      // sum of log10 probabilities, OOVs included
  double oov_total = 0;  // sum over OOV words
  uint64_t oovs = 0;
  uint64_t tokens = 0;   // words plus one </s> per line
  double perplexity_including_oovs() const;
  double perplexity_excluding_oovs() const;
};

// Scores every line of `path` ("-" = stdin). If `out` is given, prints KenLM's per-line output
// ("word=id n logprob\t..." then "Total: t OOV: m") and, at the end, its summary lines.
// sentence_context = false is query -n: no <s> context and no </s>.
QuerySummary query_text(const BackoffModel& model, const std::string& path, std::ostream* out,
                        bool sentence_context = true);

}  // namespace w2v::lm
