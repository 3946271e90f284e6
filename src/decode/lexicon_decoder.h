// Lexicon-constrained CTC beam search with a word-level n-gram LM: flashlight's LexiconDecoder
// with criterion CTC, as configured by fairseq's KenLM decoder (spec 8.3). Only words of the
// lexicon (and <unk> when unk_score > -inf) can be emitted; the LM scores each word when its
// spelling completes, with the trie's smeared look-ahead applied while inside a word.
// Not thread-safe (reuses buffers); one decoder per thread, sharing the LM and lexicon.
#pragma once

#include <vector>

#include "decode/beam.h"
#include "decode/lexicon.h"
#include "decode/options.h"
#include "decode/result.h"
#include "decode/trie.h"
#include "lm/language_model.h"

namespace w2v::decode {

class LexiconDecoder {
 public:
  // Builds the trie: every spelling scored by log10 P(word | <s>) from `lm`, MAX-smeared.
  LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm, BeamOptions options);

  // Best `nbest` hypotheses, best first. Words carry times and confidences.
  std::vector<DecodeResult> decode(const Emissions& e);

  const Trie& trie() const { return trie_; }

 private:
  struct Hyp {
    double score;
    lm::State lm_state;
    int node;
    int parent;  // index in the previous frame's hypotheses
    int token;
    int word;  // lexicon word id ending at this frame, or -1
    bool prev_blank;
    double am_score, lm_score;
    static int compare_state(const Hyp& a, const Hyp& b);
  };

  DecodeResult backtrack(int final_index, const Emissions& e, const std::vector<double>& lse) const;

  const TokenSet& tokens_;
  const Lexicon& lexicon_;
  const lm::LanguageModel& lm_;
  BeamOptions opt_;
  Trie trie_;
  std::vector<lm::WordIndex> lm_index_;  // lexicon word id -> LM vocabulary id
  std::vector<std::vector<Hyp>> frames_;  // frames_[t] = hypotheses after t emissions (+1 final)
  CandidatePool<Hyp> pool_;
  std::vector<int> top_;
};

}  // namespace w2v::decode
