// Greedy CTC decoding (fairseq's "viterbi" decoder, spec 8.2): per-frame argmax, repeats
// collapsed, blanks dropped, letters joined into words at silence tokens.
// score = Σ_t max_v log_softmax(e[t])_v; am_score = Σ_t max_v e[t, v].
#pragma once

#include "decode/result.h"

namespace w2v::decode {

class ViterbiDecoder {
 public:
  explicit ViterbiDecoder(const TokenSet& tokens) : tokens_(tokens) {}
  DecodeResult decode(const Emissions& e) const;

 private:
  const TokenSet& tokens_;
};

}  // namespace w2v::decode
