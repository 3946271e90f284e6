#include "decode/lexicon_free_decoder.h"

#include <sstream>

#include "util/error.h"

namespace w2v::decode {

int LexiconFreeDecoder::Hyp::compare_state(const Hyp& a, const Hyp& b) {
  if (int c = compare_lm_state(a.lm_state, b.lm_state)) return c;
  if (a.words != b.words) return a.words < b.words ? -1 : 1;
  if (a.token != b.token) return a.token < b.token ? -1 : 1;
  if (a.prev_blank != b.prev_blank) return a.prev_blank < b.prev_blank ? -1 : 1;
  if (a.bias != b.bias) return a.bias < b.bias ? -1 : 1;
  return 0;
}

size_t LexiconFreeDecoder::Hyp::hash_state(const Hyp& h) {
  size_t x = lm::StateHash()(h.lm_state);
  x = hash_mix(x, static_cast<uint64_t>(h.words));
  x = hash_mix(x, static_cast<uint64_t>(h.token));
  x = hash_mix(x, static_cast<uint64_t>(h.bias));
  return hash_mix(x, h.prev_blank);
}

LexiconFreeDecoder::LexiconFreeDecoder(const TokenSet& tokens, const lm::LanguageModel& lm, BeamOptions options)
    : tokens_(tokens), lm_(lm), opt_(options) {
  for (int i = 0; i < tokens_.size(); ++i) lm_index_.push_back(lm_.index(tokens_.symbol(i)));
  const bool letters = tokens_.post_process() == PostProcess::kLetter;
  if (letters) bias_boundary_ = tokens_.silence();
  for (const auto& h : opt_.hotwords) {
    std::vector<int> labels;
    std::istringstream in(h.phrase);
    for (std::string word; in >> word;) {
      auto spelling = spell_word(word, tokens_, tokens_.post_process(), letters);
      labels.insert(labels.end(), spelling.begin(), spelling.end());
    }
    bias_.add(labels, h.boost);
  }
}

std::vector<DecodeResult> LexiconFreeDecoder::decode(const Emissions& e) {
  const int V = e.vocab;
  if (V != tokens_.size())
    throw Error("lexicon-free decoder: emissions have " + std::to_string(V) + " tokens per frame, expected " +
                std::to_string(tokens_.size()) + " (the dictionary size)");
  const int sil = tokens_.silence(), blank = tokens_.blank();
  const int k = opt_.beam_size_token > 0 ? std::min(opt_.beam_size_token, V) : V;
  const double threshold = opt_.beam_threshold;
  const bool by_history = opt_.merge == MergeMode::kHistory;
  // Without a boundary token (word-piece units) a broken match may restart at any unit.
  const bool restart = bias_boundary_ < 0;

  history_.reset();
  words_.reset();
  prev_.assign(1, {0.0, lm_.begin(), BeamHistory::kStart, words_.root(), BiasTrie::kRoot, sil, false, 0.0, 0.0});

  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    top_tokens(row, V, k, top_);
    pool_.reset();
    for (const Hyp& prev : prev_) {
      for (int n : top_) {
        const double am = row[n];
        const double score = prev.score + am + (n == sil ? opt_.sil_score : 0.0);
        if (n != blank && (n != prev.token || prev.prev_blank)) {
          lm::ScoreResult r = lm_.score(prev.lm_state, lm_index_[n]);
          int state = prev.bias;
          const double gain = bias_.empty() ? 0.0 : bias_.step(state, n, restart, bias_boundary_);
          pool_.add(threshold, {score + opt_.lm_weight * r.log10_prob + gain, r.next, prev.history,
                                by_history ? words_.child(prev.words, n) : 0, state, n, false, prev.am_score + am,
                                prev.lm_score + r.log10_prob});
        } else {
          // Blank, or a CTC repeat of the last token: no new LM event.
          pool_.add(threshold, {score, prev.lm_state, prev.history, prev.words, prev.bias, n, n == blank,
                                prev.am_score + am, prev.lm_score});
        }
      }
    }
    pool_.store(next_, opt_.beam, threshold, opt_.log_add, false);
    record_frame(next_, history_, by_history ? &words_ : nullptr, live_, [](const Hyp&) { return -1; },
               opt_.merge == MergeMode::kHistory && !opt_.log_add ? opt_.nbest : 0);
    std::swap(prev_, next_);
  }

  pool_.reset();
  for (const Hyp& prev : prev_) {
    const double lm_end = lm_.finish(prev.lm_state);
    const double gain = bias_.empty() ? 0.0 : bias_.finish(prev.bias, bias_boundary_);
    pool_.add(threshold, {prev.score + opt_.lm_weight * lm_end + gain, prev.lm_state, prev.history, prev.words,
                          BiasTrie::kRoot, sil, false, prev.am_score, prev.lm_score + lm_end});
  }
  pool_.store(next_, opt_.beam, threshold, opt_.log_add, true);

  std::vector<double> lse = log_partition(e);
  std::vector<DecodeResult> results;
  for (int i = 0; i < std::min<int>(opt_.nbest, next_.size()); ++i) {
    DecodeResult r;
    const Hyp& final_hyp = next_[i];
    r.score = final_hyp.score;
    r.am_score = final_hyp.am_score;
    r.lm_score = final_hyp.lm_score;
    history_.backtrack(final_hyp.history, r.path, path_words_);
    r.tokens = collapse_path(r.path, blank);
    r.words = words_from_path(r.path, tokens_, e, lse);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace w2v::decode
