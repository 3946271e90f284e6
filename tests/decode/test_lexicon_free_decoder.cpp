// Lexicon-free beam search against an exhaustive search over all V^T token paths scored as
// spec 8.4 states; with beam and threshold unbounded the best score and text must agree.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "decode/lexicon_free_decoder.h"
#include "decode/viterbi.h"
#include "test_lm.h"

namespace w2v::decode {
namespace {

using testing::BigramLm;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "|", "A", "B"};

struct Best {
  double score = -INFINITY;
  std::vector<int> path;
  // log Σ exp(score) of the paths ending in each LM state (what log-add merging computes).
  std::map<std::vector<uint32_t>, double> log_sum;
};

// Every path, scored by spec 8.4.
void exhaustive(const TokenSet& tokens, const BigramLm& lm, const BeamOptions& opt, const Emissions& e,
                std::vector<int>& path, Best& best) {
  const int t = static_cast<int>(path.size());
  if (t == e.frames) {
    double score = 0;
    lm::State state = lm.begin();
    int prev = tokens.silence();
    bool prev_blank = false;
    for (int s = 0; s < e.frames; ++s) {
      int n = path[s];
      score += e.at(s, n) + (n == tokens.silence() ? opt.sil_score : 0.0);
      if (n != tokens.blank() && (n != prev || prev_blank)) {
        auto r = lm.score(state, lm.index(tokens.symbol(n)));
        score += opt.lm_weight * r.log10_prob;
        state = r.next;
      }
      prev_blank = n == tokens.blank();
      prev = n;
    }
    score += opt.lm_weight * lm.finish(state);
    if (score > best.score) {
      best.score = score;
      best.path = path;
    }
    std::vector<uint32_t> key(state.words.begin(), state.words.begin() + state.length);
    auto [it, inserted] = best.log_sum.emplace(key, score);
    if (!inserted) {
      double hi = std::max(it->second, score), lo = std::min(it->second, score);
      it->second = hi + std::log1p(std::exp(lo - hi));
    }
    return;
  }
  for (int n = 0; n < e.vocab; ++n) {
    path.push_back(n);
    exhaustive(tokens, lm, opt, e, path, best);
    path.pop_back();
  }
}

TEST(LexiconFreeDecoder, MatchesExhaustiveSearch) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  BigramLm lm({"|", "A", "B"}, 11);
  BeamOptions opt;
  opt.beam = 1000000;
  opt.beam_threshold = 1e30;
  opt.lm_weight = 1.3;
  opt.sil_score = -0.4;
  std::mt19937 rng(17);
  std::normal_distribution<float> n(0.f, 1.5f);
  for (int trial = 0; trial < 6; ++trial) {
    const int T = 4 + trial % 3;
    std::vector<float> data(T * V);
    for (auto& x : data) x = n(rng);
    Emissions e{data.data(), T, V};
    LexiconFreeDecoder decoder(tokens, lm, opt);
    auto r = decoder.decode(e);
    ASSERT_FALSE(r.empty());
    Best best;
    std::vector<int> path;
    exhaustive(tokens, lm, opt, e, path, best);
    EXPECT_NEAR(r[0].score, best.score, 1e-4) << "trial " << trial;
    EXPECT_EQ(r[0].tokens, collapse_path(best.path, tokens.blank())) << "trial " << trial;
  }
}

// Log-add merging with nothing pruned is the forward algorithm: the best final score is the
// log-sum over all paths that end in the best LM state.
TEST(LexiconFreeDecoder, LogAddSumsPathsPerState) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  BigramLm lm({"|", "A", "B"}, 13);
  BeamOptions opt;
  opt.beam = 1000000;
  opt.beam_threshold = 1e30;
  opt.lm_weight = 0.9;
  opt.log_add = true;
  std::mt19937 rng(23);
  std::normal_distribution<float> n(0.f, 1.0f);
  for (int trial = 0; trial < 4; ++trial) {
    const int T = 4 + trial % 2;
    std::vector<float> data(T * V);
    for (auto& x : data) x = n(rng);
    Emissions e{data.data(), T, V};
    auto r = LexiconFreeDecoder(tokens, lm, opt).decode(e);
    Best best;
    std::vector<int> path;
    exhaustive(tokens, lm, opt, e, path, best);
    double expected = -INFINITY;
    for (const auto& [state, sum] : best.log_sum) expected = std::max(expected, sum);
    EXPECT_NEAR(r.at(0).score, expected, 1e-4) << "trial " << trial;
    EXPECT_GT(r.at(0).score, best.score + 1e-3) << "log-add must exceed the best single path";
  }
}

// With lm_weight 0 and no silence bonus, the best path is the per-frame argmax.
TEST(LexiconFreeDecoder, ZeroLmWeightIsGreedy) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  BigramLm lm({"|", "A", "B"}, 2);
  BeamOptions opt;
  opt.lm_weight = 0;
  opt.beam = 20;
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.f, 2.f);
  std::vector<float> data(60 * V);
  for (auto& x : data) x = n(rng);
  Emissions e{data.data(), 60, V};
  auto greedy = ViterbiDecoder(tokens).decode(e);
  auto beam = LexiconFreeDecoder(tokens, lm, opt).decode(e).at(0);
  EXPECT_EQ(beam.path, greedy.path);
  EXPECT_EQ(beam.text(), greedy.text());
  EXPECT_NEAR(beam.am_score, greedy.am_score, 1e-4);
}

}  // namespace
}  // namespace w2v::decode
