#include "decode/viterbi.h"

#include "util/error.h"

namespace w2v::decode {

DecodeResult ViterbiDecoder::decode(const Emissions& e) const {
  if (e.vocab != tokens_.size())
    throw Error("viterbi decoder: emissions have " + std::to_string(e.vocab) + " tokens per frame, expected " +
                std::to_string(tokens_.size()) + " (the dictionary size)");
  DecodeResult r;
  std::vector<double> lse = log_partition(e);
  r.path.resize(e.frames);
  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    int best = 0;
    // Strict '>' keeps the lowest index on ties, as torch.argmax does.
    for (int v = 1; v < e.vocab; ++v) best = row[v] > row[best] ? v : best;
    r.path[t] = best;
    r.am_score += row[best];
    r.score += row[best] - lse[t];
  }
  r.tokens = collapse_path(r.path, tokens_.blank());
  r.words = words_from_path(r.path, tokens_, e, lse);
  return r;
}

}  // namespace w2v::decode
