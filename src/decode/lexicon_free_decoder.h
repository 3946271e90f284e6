// Lexicon-free CTC beam search with a token-level LM (flashlight's LexiconFreeDecoder, spec
// 8.4): every newly emitted non-blank token - the silence token included - is a "word" of the
// LM, looked up by its symbol; blanks and CTC repeats keep the LM state. No word_score or
// unk_score; words come from the token path (letter post-process). Hotwords are matched over
// their token spellings (each word followed by the silence token under the letter post-process).
// Not thread-safe (reuses buffers); one decoder per thread, sharing the LM.
#pragma once

#include <vector>

#include "decode/beam.h"
#include "decode/history.h"
#include "decode/hotwords.h"
#include "decode/options.h"
#include "decode/result.h"
#include "lm/language_model.h"

namespace w2v::decode {

class LexiconFreeDecoder {
 public:
  LexiconFreeDecoder(const TokenSet& tokens, const lm::LanguageModel& lm, BeamOptions options);

  std::vector<DecodeResult> decode(const Emissions& e);

  // As LexiconDecoder's.
  int64_t peak_history_nodes() const { return history_.peak_nodes(); }
  int64_t peak_word_histories() const { return words_.peak_size(); }
  int64_t history_bytes() const { return history_.bytes() + words_.bytes(); }
  void set_min_collect(int64_t nodes) {
    history_.set_min_collect(nodes);
    words_.set_min_collect(nodes);
  }

 private:
  // As LexiconDecoder::Hyp; `words` is the WordHistories id of the LM-scored token sequence.
  struct Hyp {
    double score;
    lm::State lm_state;
    int history;
    int words;
    int bias;
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
  BiasTrie bias_;  // over token ids
  int bias_boundary_ = -1;
  std::vector<Hyp> prev_, next_;
  BeamHistory history_;
  WordHistories words_;
  std::vector<int> live_, path_words_;
  CandidatePool<Hyp> pool_;
  std::vector<int> top_;
};

}  // namespace w2v::decode
