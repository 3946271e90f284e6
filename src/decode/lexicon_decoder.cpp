#include "decode/lexicon_decoder.h"

#include <fmt/core.h>

#include <sstream>
#include <unordered_map>

#include "util/error.h"

namespace w2v::decode {

int LexiconDecoder::Hyp::compare_state(const Hyp& a, const Hyp& b) {
  if (int c = compare_lm_state(a.lm_state, b.lm_state)) return c;
  if (a.words != b.words) return a.words < b.words ? -1 : 1;
  if (a.node != b.node) return a.node < b.node ? -1 : 1;
  if (a.token != b.token) return a.token < b.token ? -1 : 1;
  if (a.prev_blank != b.prev_blank) return a.prev_blank < b.prev_blank ? -1 : 1;
  if (a.bias != b.bias) return a.bias < b.bias ? -1 : 1;
  return 0;
}

size_t LexiconDecoder::Hyp::hash_state(const Hyp& h) {
  size_t x = lm::StateHash()(h.lm_state);
  x = hash_mix(x, static_cast<uint64_t>(h.words));
  x = hash_mix(x, static_cast<uint64_t>(h.node));
  x = hash_mix(x, static_cast<uint64_t>(h.token));
  x = hash_mix(x, static_cast<uint64_t>(h.bias));
  return hash_mix(x, h.prev_blank);
}

std::shared_ptr<const LexiconTrie> build_lexicon_trie(const Lexicon& lexicon, const lm::LanguageModel& lm,
                                                      const TokenSet& tokens, const BeamOptions& options) {
  auto out = std::make_shared<LexiconTrie>();
  const lm::State start = lm.begin();
  std::vector<std::vector<std::vector<int>>> spellings;
  std::unordered_map<std::string, int> ids;
  for (int w = 0; w < lexicon.size(); ++w) {
    spellings.push_back(lexicon.entries()[w].spellings);
    ids.emplace(lexicon.word(w), w);
  }
  // Hotwords: phrases as word-id sequences; words the lexicon lacks get spellings from the
  // tokens, ending in silence when the lexicon's spellings do.
  bool silence_ends = false;
  for (const auto& e : lexicon.entries())
    if (!e.spellings.empty()) {
      silence_ends = e.spellings[0].back() == tokens.silence();
      break;
    }
  std::vector<std::pair<std::vector<int>, double>> phrases;
  for (const auto& h : options.hotwords) {
    std::vector<int> labels;
    std::istringstream in(h.phrase);
    for (std::string word; in >> word;) {
      auto [it, inserted] = ids.emplace(word, static_cast<int>(spellings.size()));
      if (inserted) {
        out->extra_words.push_back(word);
        spellings.push_back({spell_word(word, tokens, tokens.post_process(), silence_ends)});
      }
      labels.push_back(it->second);
    }
    out->bias.add(labels, h.boost);
  }
  for (int w = 0; w < static_cast<int>(spellings.size()); ++w) {
    const std::string& name = w < lexicon.size() ? lexicon.word(w) : out->extra_words[w - lexicon.size()];
    out->lm_index.push_back(lm.index(name));
    if (spellings[w].empty()) continue;
    float score = lm.score(start, out->lm_index.back()).log10_prob;
    const int first = out->bias.child(BiasTrie::kRoot, w);
    if (first >= 0 && options.lm_weight > 0) score += static_cast<float>(out->bias.bonus(first) / options.lm_weight);
    for (const auto& spelling : spellings[w]) {
      // flashlight warns and drops a 7th homophone on one trie node; say which word it was.
      if (!out->trie.insert(spelling, w, score))
        fmt::print(stderr, "w2v: warning: lexicon word '{}': more than {} words share its spelling; this one is ignored\n",
                   name, Trie::kMaxLabels);
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

const std::string& LexiconDecoder::word(int id) const {
  return id < lexicon_.size() ? lexicon_.word(id) : shared_->extra_words.at(id - lexicon_.size());
}

void LexiconDecoder::store_frame(bool final) {
  pool_.store(next_, opt_.beam, opt_.beam_threshold, opt_.log_add, final);
  if (final) return;
  record_frame(next_, history_, opt_.merge == MergeMode::kHistory ? &words_ : nullptr, live_,
               [](const Hyp& h) { return h.word; },
               opt_.merge == MergeMode::kHistory && !opt_.log_add ? opt_.nbest : 0);
  std::swap(prev_, next_);
}

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
  const bool by_history = opt_.merge == MergeMode::kHistory;
  const BiasTrie& bias = shared_->bias;

  history_.reset();
  words_.reset();
  prev_.assign(1, {0.0, lm_.begin(), Trie::kRoot, BeamHistory::kStart, words_.root(), BiasTrie::kRoot, sil, -1, false,
                   0.0, 0.0});

  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    top_tokens(row, V, k, top_);
    in_top_.assign(V, 0);
    for (int n : top_) in_top_[n] = 1;
    pool_.reset();
    for (const Hyp& prev : prev_) {
      const int prev_node = prev.node;
      const double look = prev_node == Trie::kRoot ? 0.0 : trie_.max_score(prev_node);
      // A word ends here: LM score, word history and hotword bonus.
      auto add_word = [&](int word, int n, double base, double am, double word_score) {
        lm::ScoreResult r = lm_.score(prev.lm_state, lm_index_[word]);
        const double lm_delta = r.log10_prob - look;
        int state = prev.bias;
        const double gain = bias.empty() ? 0.0 : bias.step(state, word, true, -1);
        pool_.add(threshold, {base + opt_.lm_weight * lm_delta + word_score + gain, r.next, Trie::kRoot, prev.history,
                              by_history ? words_.child(prev.words, word) : 0, state, n, word, false, prev.am_score + am, prev.lm_score + lm_delta});
      };

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
          pool_.add(threshold, {score + opt_.lm_weight * lm_delta, prev.lm_state, next, prev.history, prev.words,
                                prev.bias, n, -1, false, prev.am_score + am, prev.lm_score + lm_delta});
        }
        // Words are skipped at the root for a repeated token (one frame-repeated one-token word
        // is one word); flashlight does not skip <unk> there, so neither do we.
        const auto& words = trie_.words(next);
        if (words.empty() && unk_enabled) add_word(unk, n, score, am, opt_.unk_score);
        if (prev_node == Trie::kRoot && prev.token == n) continue;
        for (int word : words) add_word(word, n, score, am, opt_.word_score);
      }

      // (2) Stay on the same node: repeat the current token, or silence between words.
      if (!prev.prev_blank || prev_node == Trie::kRoot) {
        const int n = prev_node == Trie::kRoot ? sil : prev.token;
        const double am = row[n];
        pool_.add(threshold, {prev.score + am + (n == sil ? opt_.sil_score : 0.0), prev.lm_state, prev_node,
                              prev.history, prev.words, prev.bias, n, -1, false, prev.am_score + am, prev.lm_score});
      }

      // (3) Blank.
      const double am = row[blank];
      pool_.add(threshold, {prev.score + am, prev.lm_state, prev_node, prev.history, prev.words, prev.bias, blank, -1,
                            true, prev.am_score + am, prev.lm_score});
    }
    store_frame(false);
  }

  // End of sentence: prefer hypotheses that completed their last word. Under kHistory each
  // history keeps its own key (flashlight's finish() state is a child of the history).
  pool_.reset();
  bool nice_ending = false;
  for (const Hyp& h : prev_) nice_ending |= h.node == Trie::kRoot;
  for (const Hyp& prev : prev_) {
    if (nice_ending && prev.node != Trie::kRoot) continue;
    const double lm_end = lm_.finish(prev.lm_state);
    const double gain = bias.empty() ? 0.0 : bias.finish(prev.bias, -1);
    pool_.add(threshold, {prev.score + opt_.lm_weight * lm_end + gain, prev.lm_state, prev.node, prev.history,
                          prev.words, BiasTrie::kRoot, sil, -1, false, prev.am_score, prev.lm_score + lm_end});
  }
  store_frame(true);

  std::vector<double> lse = log_partition(e);
  std::vector<DecodeResult> results;
  for (int i = 0; i < std::min<int>(opt_.nbest, next_.size()); ++i) results.push_back(backtrack(next_[i], e, lse));
  return results;
}

DecodeResult LexiconDecoder::backtrack(const Hyp& final_hyp, const Emissions& e, const std::vector<double>& lse) const {
  DecodeResult r;
  r.score = final_hyp.score;
  r.am_score = final_hyp.am_score;
  r.lm_score = final_hyp.lm_score;
  std::vector<int> word_at;
  history_.backtrack(final_hyp.history, r.path, word_at);
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
    w.word = word(word_at[t]);
    set_span(w, first < 0 ? t : first, first < 0 ? t + 1 : end, r.path, tokens_.blank(), e, lse);
    r.words.push_back(std::move(w));
    segment = t + 1;
  }
  return r;
}

}  // namespace w2v::decode
