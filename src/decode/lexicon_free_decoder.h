// Lexicon-free CTC beam search with a token-level LM (flashlight's LexiconFreeDecoder, spec
// 8.4): every newly emitted non-blank token - the silence token included - is a "word" of the
// LM, looked up by its symbol; blanks and CTC repeats keep the LM state. No word_score or
// unk_score; words come from the token path (letter post-process).
// Not thread-safe (reuses buffers); one decoder per thread, sharing the LM.
#pragma once

#include <vector>

#include "decode/beam.h"
#include "decode/options.h"
#include "decode/result.h"
#include "lm/language_model.h"

namespace w2v::decode {

class LexiconFreeDecoder {
 public:
  LexiconFreeDecoder(const TokenSet& tokens, const lm::LanguageModel& lm, BeamOptions options);

  std::vector<DecodeResult> decode(const Emissions& e);

 private:
  struct Hyp {
    double score;
    lm::State lm_state;
    int parent;
    int token;
    bool prev_blank;
    double am_score, lm_score;
    static int compare_state(const Hyp& a, const Hyp& b);
    static size_t hash_state(const Hyp& h);
  };

  const TokenSet& tokens_;
  const lm::LanguageModel& lm_;
  BeamOptions opt_;
  std::vector<lm::WordIndex> lm_index_;  // token id -> LM vocabulary id
  std::vector<std::vector<Hyp>> frames_;
  CandidatePool<Hyp> pool_;
  std::vector<int> top_;
};

}  // namespace w2v::decode
