#include "decode/lexicon_decoder.h"

#include <fmt/core.h>

#include "util/error.h"

namespace w2v::decode {

int LexiconDecoder::Hyp::compare_state(const Hyp& a, const Hyp& b) {
  if (int c = compare_lm_state(a.lm_state, b.lm_state)) return c;
  if (a.node != b.node) return a.node < b.node ? -1 : 1;
  if (a.token != b.token) return a.token < b.token ? -1 : 1;
  if (a.prev_blank != b.prev_blank) return a.prev_blank < b.prev_blank ? -1 : 1;
  return 0;
}

size_t LexiconDecoder::Hyp::hash_state(const Hyp& h) {
  size_t x = lm::StateHash()(h.lm_state);
  x = hash_mix(x, static_cast<uint64_t>(h.node));
  x = hash_mix(x, static_cast<uint64_t>(h.token));
  return hash_mix(x, h.prev_blank);
}

std::shared_ptr<const LexiconTrie> build_lexicon_trie(const Lexicon& lexicon, const lm::LanguageModel& lm) {
  auto out = std::make_shared<LexiconTrie>();
  const lm::State start = lm.begin();
  for (int w = 0; w < lexicon.size(); ++w) {
    const auto& entry = lexicon.entries()[w];
    out->lm_index.push_back(lm.index(entry.word));
    if (entry.spellings.empty()) continue;
    float score = lm.score(start, out->lm_index.back()).log10_prob;
    for (const auto& spelling : entry.spellings) {
      // flashlight warns and drops a 7th homophone on one trie node; say which word it was.
      if (!out->trie.insert(spelling, w, score))
        fmt::print(stderr, "w2v: warning: lexicon word '{}': more than {} words share its spelling; this one is ignored\n",
                   entry.word, Trie::kMaxLabels);
    }
  }
  out->trie.smear();
  return out;
}

LexiconDecoder::LexiconDecoder(const TokenSet& tokens, const Lexicon& lexicon, const lm::LanguageModel& lm,
                               std::shared_ptr<const LexiconTrie> trie, BeamOptions options)
    : tokens_(tokens),
      lexicon_(lexicon),
      lm_(lm),
      opt_(options),
      shared_(std::move(trie)),
      trie_(shared_->trie),
      lm_index_(shared_->lm_index) {}

std::vector<DecodeResult> LexiconDecoder::decode(const Emissions& e) {
  const int V = e.vocab;
  if (V != tokens_.size())
    throw Error("lexicon decoder: emissions have " + std::to_string(V) + " tokens per frame, expected " +
                std::to_string(tokens_.size()) + " (the dictionary size)");
  const int sil = tokens_.silence(), blank = tokens_.blank();
  const int k = opt_.beam_size_token > 0 ? std::min(opt_.beam_size_token, V) : V;
  const double threshold = opt_.beam_threshold;
  const bool unk_enabled = opt_.unk_score > -std::numeric_limits<double>::infinity();
  const int unk = lexicon_.unk();

  if (static_cast<int>(frames_.size()) < e.frames + 2) frames_.resize(e.frames + 2);
  frames_[0].clear();
  frames_[0].push_back({0.0, lm_.begin(), Trie::kRoot, -1, sil, -1, false, 0.0, 0.0});

  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    top_tokens(row, V, k, top_);
    in_top_.assign(V, 0);
    for (int n : top_) in_top_[n] = 1;
    pool_.reset();
    const auto& prev_frame = frames_[t];
    for (int h = 0; h < static_cast<int>(prev_frame.size()); ++h) {
      const Hyp& prev = prev_frame[h];
      const int prev_node = prev.node;
      const double look = prev_node == Trie::kRoot ? 0.0 : trie_.max_score(prev_node);

      // (1) Extend by a child token of the current trie node that is among the frame's top tokens.
      // Walking the node's children (sorted by token) instead of flashlight's top-k list gives
      // the same candidates; only their order differs, which matters for exact score ties only.
      const int first_child = trie_.first_child(prev_node), end_child = first_child + trie_.num_children(prev_node);
      for (int c = first_child; c < end_child; ++c) {
        const int n = trie_.child_token(c);
        if (!in_top_[n]) continue;
        const int next = trie_.child_node(c);
        const double am = row[n];
        const double score = prev.score + am + (n == sil ? opt_.sil_score : 0.0);
        if ((prev.prev_blank || n != prev.token) && trie_.has_children(next)) {
          const double lm_delta = trie_.max_score(next) - look;
          pool_.add(threshold, {score + opt_.lm_weight * lm_delta, prev.lm_state, next, h, n, -1, false,
                                prev.am_score + am, prev.lm_score + lm_delta});
        }
        // Skipped at the root for a repeated token: one frame-repeated one-token word is one word.
        const bool repeat_at_root = prev_node == Trie::kRoot && prev.token == n;
        if (!repeat_at_root) {
          const auto& words = trie_.words(next);
          for (int word : words) {
            lm::ScoreResult r = lm_.score(prev.lm_state, lm_index_[word]);
            const double lm_delta = r.log10_prob - look;
            pool_.add(threshold, {score + opt_.lm_weight * lm_delta + opt_.word_score, r.next, Trie::kRoot, h, n, word,
                                  false, prev.am_score + am, prev.lm_score + lm_delta});
          }
          if (words.empty() && unk_enabled) {
            lm::ScoreResult r = lm_.score(prev.lm_state, lm_index_[unk]);
            const double lm_delta = r.log10_prob - look;
            pool_.add(threshold, {score + opt_.lm_weight * lm_delta + opt_.unk_score, r.next, Trie::kRoot, h, n, unk,
                                  false, prev.am_score + am, prev.lm_score + lm_delta});
          }
        }
      }

      // (2) Stay on the same node: repeat the current token, or silence between words.
      if (!prev.prev_blank || prev_node == Trie::kRoot) {
        const int n = prev_node == Trie::kRoot ? sil : prev.token;
        const double am = row[n];
        pool_.add(threshold, {prev.score + am + (n == sil ? opt_.sil_score : 0.0), prev.lm_state, prev_node, h, n, -1,
                              false, prev.am_score + am, prev.lm_score});
      }

      // (3) Blank.
      const double am = row[blank];
      pool_.add(threshold, {prev.score + am, prev.lm_state, prev_node, h, blank, -1, true, prev.am_score + am,
                            prev.lm_score});
    }
    pool_.store(frames_[t + 1], opt_.beam, threshold, opt_.log_add, false);
  }

  // End of sentence: prefer hypotheses that completed their last word.
  pool_.reset();
  const auto& last = frames_[e.frames];
  bool nice_ending = false;
  for (const Hyp& h : last) nice_ending |= h.node == Trie::kRoot;
  for (int h = 0; h < static_cast<int>(last.size()); ++h) {
    const Hyp& prev = last[h];
    if (nice_ending && prev.node != Trie::kRoot) continue;
    const double lm_end = lm_.finish(prev.lm_state);
    pool_.add(threshold, {prev.score + opt_.lm_weight * lm_end, prev.lm_state, prev.node, h, sil, -1, false,
                          prev.am_score, prev.lm_score + lm_end});
  }
  auto& final_hyps = frames_[e.frames + 1];
  pool_.store(final_hyps, opt_.beam, threshold, opt_.log_add, true);

  std::vector<double> lse = log_partition(e);
  std::vector<DecodeResult> results;
  for (int i = 0; i < std::min<int>(opt_.nbest, final_hyps.size()); ++i) results.push_back(backtrack(i, e, lse));
  return results;
}

DecodeResult LexiconDecoder::backtrack(int final_index, const Emissions& e, const std::vector<double>& lse) const {
  DecodeResult r;
  const Hyp& final_hyp = frames_[e.frames + 1][final_index];
  r.score = final_hyp.score;
  r.am_score = final_hyp.am_score;
  r.lm_score = final_hyp.lm_score;
  r.path.resize(e.frames);
  std::vector<int> word_at(e.frames, -1);
  int index = final_hyp.parent;
  for (int t = e.frames; t >= 1; --t) {
    const Hyp& h = frames_[t][index];
    r.path[t - 1] = h.token;
    word_at[t - 1] = h.word;
    index = h.parent;
  }
  r.tokens = collapse_path(r.path, tokens_.blank());
  // A word spans its tokens' frames since the previous word ended, silence and blanks excluded.
  int segment = 0;
  for (int t = 0; t < e.frames; ++t) {
    if (word_at[t] < 0) continue;
    int first = -1, end = t;
    for (int s = segment; s <= t; ++s) {
      int tok = r.path[s];
      if (tok == tokens_.blank() || tok == tokens_.silence() || tokens_.is_special(tok)) continue;
      if (first < 0) first = s;
      end = s + 1;
    }
    WordSpan w;
    w.word = lexicon_.word(word_at[t]);
    set_span(w, first < 0 ? t : first, first < 0 ? t + 1 : end, r.path, e, lse);
    r.words.push_back(std::move(w));
    segment = t + 1;
  }
  return r;
}

}  // namespace w2v::decode
