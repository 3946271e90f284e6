// Lexicon-constrained CTC beam search with a word-level n-gram LM: flashlight's LexiconDecoder
// with criterion CTC, as configured by fairseq's KenLM decoder (spec 8.3). Only words of the
// lexicon (and <unk> when unk_score > -inf) can be emitted; the LM scores each word when its
// spelling completes, with the trie's smeared look-ahead applied while inside a word.
// Not thread-safe (reuses buffers); one decoder per thread, sharing the LM and lexicon.
#pragma once

#include <memory>
#include <vector>

#include "decode/beam.h"
#include "decode/lexicon.h"
#include "decode/options.h"
#include "decode/result.h"
#include "decode/trie.h"
#include "lm/language_model.h"

namespace w2v::decode {

// The lexicon's trie for one LM: every spelling scored by log10 P(word | <s>), MAX-smeared, and
// each lexicon word's LM vocabulary id. Read-only once built; decoders on several threads share it.
struct LexiconTrie {
  Trie trie;
  std::vector<lm::WordIndex> lm_index;  // lexicon word id -> LM vocabulary id
};
std::shared_ptr<const LexiconTrie> build_lexicon_trie(const Lexicon& lexicon, const lm::LanguageModel& lm);

class LexiconDecoder {
 public:
  LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm, BeamOptions options)
      : LexiconDecoder(tokens, lexicon, lm, build_lexicon_trie(lexicon, lm), options) {}
  // `trie` must have been built from this lexicon and LM.
  LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm,
                 std::shared_ptr<const LexiconTrie> trie, BeamOptions options);

  // Best `nbest` hypotheses, best first. Words carry times and confidences.
  std::vector<DecodeResult> decode(const Emissions& e);

  const Trie& trie() const { return shared_->trie; }

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
    static size_t hash_state(const Hyp& h);
  };

  DecodeResult backtrack(int final_index, const Emissions& e, const std::vector<double>& lse) const;

  const TokenSet& tokens_;
  const Lexicon& lexicon_;
  const lm::LanguageModel& lm_;
  BeamOptions opt_;
  std::shared_ptr<const LexiconTrie> shared_;
  const Trie& trie_;
  const std::vector<lm::WordIndex>& lm_index_;
  std::vector<std::vector<Hyp>> frames_;  // frames_[t] = hypotheses after t emissions (+1 final)
  CandidatePool<Hyp> pool_;
  std::vector<int> top_;
  std::vector<char> in_top_;  // in_top_[token]: among this frame's beam_size_token best
};

}  // namespace w2v::decode
