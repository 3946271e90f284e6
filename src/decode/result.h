// What every decoder returns for one utterance: scores, the frame-level token path, and the
// words with their times and confidences.
#pragma once

#include <string>
#include <vector>

#include "decode/emissions.h"
#include "decode/tokens.h"

namespace w2v::decode {

// A decoded word. Frames are emission frames, end exclusive; seconds = frames × kFrameSeconds
// (plus the caller's offset for chunked audio). confidence = exp(mean log posterior of the
// path's tokens over the non-blank frames of [start_frame, end_frame)), in (0, 1].
struct WordSpan {
  std::string word;
  int start_frame = 0, end_frame = 0;
  double start = 0, end = 0;
  double confidence = 0;
};

struct DecodeResult {
  double score = 0;     // the decoder's total (AM + lm_weight·LM + word/sil/unk scores)
  double am_score = 0;  // Σ emission scores along the path
  double lm_score = 0;  // Σ LM log10 scores (unweighted)
  std::vector<int> path;    // one token per emission frame
  std::vector<int> tokens;  // path with repeats collapsed and blanks removed (fairseq's hypo tokens)
  std::vector<WordSpan> words;

  std::string text() const;  // words joined by single spaces
};

// Collapses repeats and drops blanks.
std::vector<int> collapse_path(const std::vector<int>& path, int blank);

// The words of a frame path (fairseq's post-process, spec 6.3): each newly emitted unit adds its
// spelling (TokenSet::spelling), spaces end words. A word spans the frames of the units that
// spelled it. Used by the greedy and lexicon-free decoders. lse = log_partition(emissions) for
// the confidences.
std::vector<WordSpan> words_from_path(const std::vector<int>& path, const TokenSet& tokens, const Emissions& e,
                                      const std::vector<double>& lse);

// Fills a word's times and confidence from its frame span (`blank`: the blank token's id).
void set_span(WordSpan& w, int start_frame, int end_frame, const std::vector<int>& path, int blank, const Emissions& e,
              const std::vector<double>& lse);

}  // namespace w2v::decode
