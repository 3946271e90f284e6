// Beam-search knobs shared by the lexicon and lexicon-free decoders (flashlight's names, spec
// 8.3). Defaults are fairseq's hydra infer defaults (beam_size_token = V when <= 0).
#pragma once

#include <limits>

namespace w2v::decode {

struct BeamOptions {
  int beam = 50;               // hypotheses kept per frame
  int beam_size_token = 0;     // only the top-k tokens of each frame are expanded; <= 0: all
  double beam_threshold = 50;  // candidates more than this below the frame's best are dropped
  double lm_weight = 2;        // × LM log10 scores
  double word_score = -1;      // added per emitted word (lexicon decoder)
  double unk_score = -std::numeric_limits<double>::infinity();  // per <unk> word; -inf disables
  double sil_score = 0;        // added whenever the silence token is consumed
  bool log_add = false;        // merge equal-state hypotheses by log-add instead of max
  int nbest = 1;               // hypotheses returned
};

}  // namespace w2v::decode
