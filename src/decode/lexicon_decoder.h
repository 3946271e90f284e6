// Lexicon-constrained CTC beam search with a word-level n-gram LM: flashlight's LexiconDecoder
// with criterion CTC, as configured by fairseq's KenLM decoder (spec 8.3). Only words of the
// lexicon (and <unk> when unk_score > -inf) can be emitted; the LM scores each word when its
// spelling completes, with the trie's smeared look-ahead applied while inside a word.
// Not thread-safe (reuses buffers); one decoder per thread, sharing the LM and lexicon.
#pragma once

#include <memory>
#include <vector>

#include "decode/beam.h"
#include "decode/history.h"
#include "decode/hotwords.h"
#include "decode/lexicon.h"
#include "decode/options.h"
#include "decode/result.h"
#include "decode/trie.h"
#include "lm/language_model.h"

namespace w2v::decode {

// The lexicon's trie for one LM: every spelling scored by log10 P(word | <s>), MAX-smeared, and
// each word's LM vocabulary id; with hotwords (options.hotwords) also the hotwords' trie, the
// hotwords the lexicon lacks (word ids from lexicon.size() on, spelled from the tokens), and
// look-ahead raised by each hotword's first-word bonus / lm_weight (a search heuristic only:
// look-ahead terms telescope, so a completed word still nets its true LM score).
// Read-only once built; decoders on several threads share it.
struct LexiconTrie {
  Trie trie;
  std::vector<lm::WordIndex> lm_index;  // word id -> LM vocabulary id
  std::vector<std::string> extra_words;  // word ids lexicon.size() + i
  BiasTrie bias;                         // over word ids
};
std::shared_ptr<const LexiconTrie> build_lexicon_trie(const Lexicon& lexicon, const lm::LanguageModel& lm,
                                                      const TokenSet& tokens, const BeamOptions& options);

class LexiconDecoder {
 public:
  LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm, BeamOptions options)
      : LexiconDecoder(tokens, lexicon, lm, build_lexicon_trie(lexicon, lm, tokens, options), options) {}
  // `trie` must have been built from this lexicon, LM, tokens and options.
  LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm,
                 std::shared_ptr<const LexiconTrie> trie, BeamOptions options);

  // Best `nbest` hypotheses, best first. Words carry times and confidences.
  std::vector<DecodeResult> decode(const Emissions& e);

  const Trie& trie() const { return shared_->trie; }
  const std::string& word(int id) const;
  // What the last decode() kept of its past at most (bounded by the beam and by how far back
  // the hypotheses' common ancestor lies, not by the input's length).
  int64_t peak_history_nodes() const { return history_.peak_nodes(); }
  int64_t peak_word_histories() const { return words_.peak_size(); }
  int64_t history_bytes() const { return history_.bytes() + words_.bytes(); }
  // Tests: collect the histories whenever one holds more than `nodes` nodes.
  void set_min_collect(int64_t nodes) {
    history_.set_min_collect(nodes);
    words_.set_min_collect(nodes);
  }

 private:
  // A hypothesis of the current frame. In the candidate pool `history` is the parent's node;
  // once stored, the hypothesis's own node (BeamHistory). `words` is the WordHistories id
  // under MergeMode::kHistory, 0 otherwise, so the merge key is right for both modes.
  struct Hyp {
    double score;
    lm::State lm_state;
    int node;
    int history;
    int words;
    int bias;  // BiasTrie state
    int token;
    int word;  // word id ending at this frame, or -1
    bool prev_blank;
    double am_score, lm_score;
    static int compare_state(const Hyp& a, const Hyp& b);
    static size_t hash_state(const Hyp& h);
  };

  void store_frame(bool final);
  DecodeResult backtrack(const Hyp& final_hyp, const Emissions& e, const std::vector<double>& lse) const;

  const TokenSet& tokens_;
  const Lexicon& lexicon_;
  const lm::LanguageModel& lm_;
  BeamOptions opt_;
  std::shared_ptr<const LexiconTrie> shared_;
  const Trie& trie_;
  const std::vector<lm::WordIndex>& lm_index_;
  std::vector<Hyp> prev_, next_;  // hypotheses before and after the current frame
  BeamHistory history_;
  WordHistories words_;
  std::vector<int> live_;
  CandidatePool<Hyp> pool_;
  std::vector<int> top_;
  std::vector<char> in_top_;  // in_top_[token]: among this frame's beam_size_token best
};

}  // namespace w2v::decode
