// Word and character error rates over a set of (reference, hypothesis) utterance pairs, and an
// sclite-like text report (per-utterance lines, totals, most frequent confusions).
//
// WER = (S + D + I) / reference words, words = whitespace-split text (spec 6.3).
// CER = the same over characters of the words joined by single spaces (the space counts, like
// the '|' token counts in fairseq's UER). An empty reference with a non-empty hypothesis gives
// an infinite rate for that utterance; totals divide by the total reference length.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "eval/edit_distance.h"

namespace w2v::eval {

std::vector<std::string> split_words(const std::string& text);
// Characters (UTF-8 code points) of the words joined by single spaces.
std::vector<std::string> split_chars(const std::string& text);

struct UtteranceScore {
  std::string id;
  std::vector<std::string> ref, hyp;  // the units that were aligned
  Alignment alignment;
};

class Scorer {
 public:
  explicit Scorer(bool characters = false) : characters_(characters) {}
  const UtteranceScore& add(const std::string& id, const std::string& ref, const std::string& hyp);

  size_t ref_units() const { return ref_units_; }
  size_t hyp_units() const { return hyp_units_; }
  size_t errors() const { return subs_ + dels_ + ins_; }
  size_t substitutions() const { return subs_; }
  size_t deletions() const { return dels_; }
  size_t insertions() const { return ins_; }
  size_t sentences() const { return utts_.size(); }
  size_t sentence_errors() const;
  // errors / ref_units in percent (0 when both are empty).
  double error_rate() const;
  const std::vector<UtteranceScore>& utterances() const { return utts_; }
  // Counts of "ref -> hyp" substitutions, deleted and inserted units, most frequent first.
  std::vector<std::pair<std::string, size_t>> confusions(size_t top) const;
  std::vector<std::pair<std::string, size_t>> deleted(size_t top) const;
  std::vector<std::pair<std::string, size_t>> inserted(size_t top) const;
  // The sclite-like report: per utterance the aligned REF/HYP/EVAL lines ("***" fills gaps,
  // EVAL marks S/D/I) and its counts, then totals, then the most frequent confusions.
  std::string report(size_t top = 20) const;

 private:
  bool characters_;
  std::vector<UtteranceScore> utts_;
  size_t ref_units_ = 0, hyp_units_ = 0, subs_ = 0, dels_ = 0, ins_ = 0;
  std::map<std::string, size_t> subs_count_, dels_count_, ins_count_;
};

}  // namespace w2v::eval
