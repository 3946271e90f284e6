#include "decode/lexicon_free_decoder.h"

#include "util/error.h"

namespace w2v::decode {

int LexiconFreeDecoder::Hyp::compare_state(const Hyp& a, const Hyp& b) {
  if (int c = compare_lm_state(a.lm_state, b.lm_state)) return c;
  if (a.token != b.token) return a.token < b.token ? -1 : 1;
  if (a.prev_blank != b.prev_blank) return a.prev_blank < b.prev_blank ? -1 : 1;
  return 0;
}

size_t LexiconFreeDecoder::Hyp::hash_state(const Hyp& h) {
  size_t x = lm::StateHash()(h.lm_state);
  x = hash_mix(x, static_cast<uint64_t>(h.token));
  return hash_mix(x, h.prev_blank);
}

LexiconFreeDecoder::LexiconFreeDecoder(const TokenSet& tokens, const lm::LanguageModel& lm, BeamOptions options)
    : tokens_(tokens), lm_(lm), opt_(options) {
  for (int i = 0; i < tokens_.size(); ++i) lm_index_.push_back(lm_.index(tokens_.symbol(i)));
}

std::vector<DecodeResult> LexiconFreeDecoder::decode(const Emissions& e) {
  const int V = e.vocab;
  if (V != tokens_.size())
    throw Error("lexicon-free decoder: emissions have " + std::to_string(V) + " tokens per frame, expected " +
                std::to_string(tokens_.size()) + " (the dictionary size)");
  const int sil = tokens_.silence(), blank = tokens_.blank();
  const int k = opt_.beam_size_token > 0 ? std::min(opt_.beam_size_token, V) : V;
  const double threshold = opt_.beam_threshold;

  if (static_cast<int>(frames_.size()) < e.frames + 2) frames_.resize(e.frames + 2);
  frames_[0].clear();
  frames_[0].push_back({0.0, lm_.begin(), -1, sil, false, 0.0, 0.0});

  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    top_tokens(row, V, k, top_);
    pool_.reset();
    const auto& prev_frame = frames_[t];
    for (int h = 0; h < static_cast<int>(prev_frame.size()); ++h) {
      const Hyp& prev = prev_frame[h];
      for (int n : top_) {
        const double am = row[n];
        const double score = prev.score + am + (n == sil ? opt_.sil_score : 0.0);
        if (n != blank && (n != prev.token || prev.prev_blank)) {
          lm::ScoreResult r = lm_.score(prev.lm_state, lm_index_[n]);
          pool_.add(threshold, {score + opt_.lm_weight * r.log10_prob, r.next, h, n, false, prev.am_score + am,
                                prev.lm_score + r.log10_prob});
        } else {
          // Blank, or a CTC repeat of the last token: no new LM event.
          pool_.add(threshold, {score, prev.lm_state, h, n, n == blank, prev.am_score + am, prev.lm_score});
        }
      }
    }
    pool_.store(frames_[t + 1], opt_.beam, threshold, opt_.log_add, false);
  }

  pool_.reset();
  const auto& last = frames_[e.frames];
  for (int h = 0; h < static_cast<int>(last.size()); ++h) {
    const Hyp& prev = last[h];
    const double lm_end = lm_.finish(prev.lm_state);
    pool_.add(threshold, {prev.score + opt_.lm_weight * lm_end, prev.lm_state, h, sil, false, prev.am_score,
                          prev.lm_score + lm_end});
  }
  auto& final_hyps = frames_[e.frames + 1];
  pool_.store(final_hyps, opt_.beam, threshold, opt_.log_add, true);

  std::vector<double> lse = log_partition(e);
  std::vector<DecodeResult> results;
  for (int i = 0; i < std::min<int>(opt_.nbest, final_hyps.size()); ++i) {
    DecodeResult r;
    const Hyp& final_hyp = final_hyps[i];
    r.score = final_hyp.score;
    r.am_score = final_hyp.am_score;
    r.lm_score = final_hyp.lm_score;
    r.path.resize(e.frames);
    int index = final_hyp.parent;
    for (int t = e.frames; t >= 1; --t) {
      r.path[t - 1] = frames_[t][index].token;
      index = frames_[t][index].parent;
    }
    r.tokens = collapse_path(r.path, blank);
    r.words = words_from_path(r.path, tokens_, e, lse);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace w2v::decode
