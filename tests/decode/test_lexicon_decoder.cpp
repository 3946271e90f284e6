// Lexicon beam search against an exhaustive search over every CTC path, scored exactly as spec
// 8.3 states (trie look-ahead computed from its definition here, not from decode/trie.h).
// With beam and threshold unbounded, max-merging is exact, so the best score and words must agree.
#include <gtest/gtest.h>

#include <cmath>
#include <fmt/core.h>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "decode/lexicon_decoder.h"
#include "decode/viterbi.h"
#include "lm/ngram_model.h"
#include "test_lm.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

using testing::BigramLm;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C"};

std::vector<float> random_emissions(int frames, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.f, 1.5f);
  std::vector<float> e(static_cast<size_t>(frames) * vocab);
  for (auto& x : e) x = n(rng);
  return e;
}

std::vector<std::string> words_of(const Lexicon& lex) {
  std::vector<std::string> w;
  for (const auto& e : lex.entries())
    if (e.word != "<unk>") w.push_back(e.word);
  return w;
}

double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  return b - a < -39.14 ? a : a + std::log1p(std::exp(b - a));
}

// Exhaustive search over the decoder's hypothesis space (spec 8.3), no pruning, no merging.
class Exhaustive {
 public:
  Exhaustive(const TokenSet& tokens, const Lexicon& lex, const lm::LanguageModel& lm, BeamOptions opt, Emissions e)
      : tokens_(tokens), lex_(lex), lm_(lm), opt_(opt), e_(e) {
    for (int w = 0; w < lex.size(); ++w)
      for (const auto& s : lex.entries()[w].spellings) ends_[s].push_back(w);
  }

  struct Best {
    double score = -INFINITY;
    std::vector<std::string> words;
  };

  Best run() {
    std::vector<std::string> words;
    dfs(0, {}, lm_.begin(), tokens_.silence(), false, 0.0, words);
    return root_.score > -INFINITY ? root_ : any_;
  }

 private:
  bool node_exists(const std::vector<int>& p) const {
    for (const auto& [s, w] : ends_)
      if (s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin())) return true;
    return false;
  }
  bool has_children(const std::vector<int>& p) const {
    for (const auto& [s, w] : ends_)
      if (s.size() > p.size() && std::equal(p.begin(), p.end(), s.begin())) return true;
    return false;
  }
  double own(const std::vector<int>& s) const {
    double m = -INFINITY;
    for (int w : ends_.at(s)) m = log_add(m, lm_.score(lm_.begin(), lm_.index(lex_.word(w))).log10_prob);
    return m;
  }
  // Smeared look-ahead: best own score over the node and its descendants; 0 at the root.
  double look(const std::vector<int>& p) const {
    if (p.empty()) return 0;
    double m = -INFINITY;
    for (const auto& [s, w] : ends_)
      if (s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin())) m = std::max(m, own(s));
    return m;
  }
  std::vector<int> words_at(const std::vector<int>& p) const {
    auto it = ends_.find(p);
    return it == ends_.end() ? std::vector<int>{} : it->second;
  }

  void dfs(int t, const std::vector<int>& prefix, const lm::State& state, int token, bool prev_blank, double score,
           std::vector<std::string>& words) {
    if (t == e_.frames) {
      double final_score = score + opt_.lm_weight * lm_.finish(state);
      Best& into = prefix.empty() ? root_ : any_;
      if (final_score > into.score) into = {final_score, words};
      if (final_score > any_.score) any_ = {final_score, words};
      return;
    }
    const int sil = tokens_.silence(), blank = tokens_.blank();
    const double look_here = look(prefix);
    for (int n = 0; n < e_.vocab; ++n) {
      std::vector<int> next = prefix;
      next.push_back(n);
      if (!node_exists(next)) continue;
      double base = score + e_.at(t, n) + (n == sil ? opt_.sil_score : 0.0);
      if ((prev_blank || n != token) && has_children(next))
        dfs(t + 1, next, state, n, false, base + opt_.lm_weight * (look(next) - look_here), words);
      auto ending = words_at(next);
      // A repeated token at the root ends no word, but may end <unk> (flashlight's guard sits
      // inside its loop over the node's words).
      if (prefix.empty() && token == n && !ending.empty()) continue;
      if (ending.empty() && opt_.unk_score > -INFINITY) ending = {-1};
      for (int w : ending) {
        bool unk = w < 0;
        auto r = lm_.score(state, unk ? lm_.unk_index() : lm_.index(lex_.word(w)));
        words.push_back(unk ? "<unk>" : lex_.word(w));
        dfs(t + 1, {}, r.next, n, false,
            base + opt_.lm_weight * (r.log10_prob - look_here) + (unk ? opt_.unk_score : opt_.word_score), words);
        words.pop_back();
      }
    }
    if (!prev_blank || prefix.empty()) {
      int n = prefix.empty() ? sil : token;
      dfs(t + 1, prefix, state, n, false, score + e_.at(t, n) + (n == sil ? opt_.sil_score : 0.0), words);
    }
    dfs(t + 1, prefix, state, blank, true, score + e_.at(t, blank), words);
  }

  const TokenSet& tokens_;
  const Lexicon& lex_;
  const lm::LanguageModel& lm_;
  BeamOptions opt_;
  Emissions e_;
  std::map<std::vector<int>, std::vector<int>> ends_;  // spelling -> word ids
  Best root_, any_;
};

BeamOptions unbounded(double lm_weight, double word_score, double sil_score, double unk_score) {
  BeamOptions o;
  o.beam = 1000000;
  o.beam_size_token = 0;
  o.beam_threshold = 1e30;
  o.lm_weight = lm_weight;
  o.word_score = word_score;
  o.sil_score = sil_score;
  o.unk_score = unk_score;
  return o;
}

struct Case {
  const char* lexicon;
  double lm_weight, word_score, sil_score, unk_score;
};

TEST(LexiconDecoder, MatchesExhaustiveSearch) {
  TokenSet tokens(kSymbols);
  const std::vector<Case> cases = {
      // Letter lexicon with '|'-terminated spellings, two spellings of one word, a shared prefix.
      {"AB A B |\nBA B A |\nA A |\nCAB C A B |\nAC A C |\nAB A B B |\n", 1.5, -0.5, 0.3, -INFINITY},
      // Spellings without a trailing silence: one-token words exercise the root repeat rule.
      {"A A\nB B\nAB A B\nCA C A\n", 2.0, 0.7, -0.4, -INFINITY},
      // <unk> enabled: a prefix that ends no word can be emitted as <unk>.
      {"ABC A B C |\nBA B A |\nCC C C |\n", 0.8, -1.0, 0.0, -2.0},
  };
  int compared = 0;
  size_t emitted = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    Lexicon lex = Lexicon::parse(cases[c].lexicon, "test.lex", tokens);
    BigramLm lm(words_of(lex), 100 + c);
    BeamOptions opt = unbounded(cases[c].lm_weight, cases[c].word_score, cases[c].sil_score, cases[c].unk_score);
    for (unsigned seed = 0; seed < 6; ++seed) {
      const int frames = 5 + seed % 3;
      auto data = random_emissions(frames, tokens.size(), 1000 * c + seed);
      Emissions e{data.data(), frames, tokens.size()};
      LexiconDecoder decoder(tokens, lex, lm, opt);
      auto results = decoder.decode(e);
      ASSERT_FALSE(results.empty());
      auto best = Exhaustive(tokens, lex, lm, opt, e).run();
      EXPECT_NEAR(results[0].score, best.score, 1e-4) << "case " << c << " seed " << seed;
      std::vector<std::string> words;
      for (const auto& w : results[0].words) words.push_back(w.word);
      EXPECT_EQ(words, best.words) << "case " << c << " seed " << seed;
      ++compared;
      emitted += words.size();
    }
  }
  EXPECT_EQ(compared, 18);
  EXPECT_GE(emitted, 12u);  // the best paths do emit words, so word scoring is exercised
}

// A back-off trigram ARPA (some bigrams/trigrams listed, the rest backing off) loaded by
// w2v::lm: exercises real LM states (state minimisation) in the merge keys.
std::string write_arpa(const std::vector<std::string>& words, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> p(-2.0f, -0.2f), bo(-0.8f, 0.0f);
  std::vector<std::string> vocab = {"<unk>", "<s>", "</s>"};
  vocab.insert(vocab.end(), words.begin(), words.end());
  std::vector<std::string> uni, bi, tri;
  std::set<std::pair<std::string, std::string>> listed;
  for (const auto& w : vocab) uni.push_back(fmt::format("{:.4f}\t{}\t{:.4f}", w == "<s>" ? -99.0f : p(rng), w, bo(rng)));
  for (const auto& a : vocab) {
    for (const auto& b : vocab) {
      if (b == "<s>" || a == "</s>" || (rng() % 2)) continue;
      bi.push_back(fmt::format("{:.4f}\t{} {}\t{:.4f}", p(rng), a, b, bo(rng)));
      listed.emplace(a, b);
    }
  }
  // A trigram needs its context and its suffix listed as bigrams.
  for (const auto& [a, b] : listed)
    for (const auto& c : vocab)
      if (listed.count({b, c}) && rng() % 3 == 0) tri.push_back(fmt::format("{:.4f}\t{} {} {}", p(rng), a, b, c));
  std::string path = ::testing::TempDir() + fmt::format("/decode_test_{}.arpa", seed);
  std::ofstream out(path);
  out << "\\data\\\nngram 1=" << uni.size() << "\nngram 2=" << bi.size() << "\nngram 3=" << tri.size() << "\n\n";
  out << "\\1-grams:\n";
  for (const auto& l : uni) out << l << "\n";
  out << "\n\\2-grams:\n";
  for (const auto& l : bi) out << l << "\n";
  out << "\n\\3-grams:\n";
  for (const auto& l : tri) out << l << "\n";
  out << "\n\\end\\\n";
  return path;
}

TEST(LexiconDecoder, MatchesExhaustiveSearchWithArpaModel) {
  TokenSet tokens(kSymbols);
  Lexicon lex = Lexicon::parse("AB A B |\nBA B A |\nA A |\nCAB C A B |\nAC A C |\nB B |\n", "test.lex", tokens);
  auto lm = lm::load_language_model(write_arpa(words_of(lex), 5));
  BeamOptions opt = unbounded(1.7, -0.3, 0.2, -INFINITY);
  for (unsigned seed = 0; seed < 5; ++seed) {
    const int frames = 6 + seed % 2;
    auto data = random_emissions(frames, tokens.size(), 77 + seed);
    Emissions e{data.data(), frames, tokens.size()};
    LexiconDecoder decoder(tokens, lex, *lm, opt);
    auto results = decoder.decode(e);
    ASSERT_FALSE(results.empty());
    auto best = Exhaustive(tokens, lex, *lm, opt, e).run();
    EXPECT_NEAR(results[0].score, best.score, 1e-4) << "seed " << seed;
    std::vector<std::string> words;
    for (const auto& w : results[0].words) words.push_back(w.word);
    EXPECT_EQ(words, best.words) << "seed " << seed;
  }
}

TEST(LexiconDecoder, ScoreDecomposesAndIsDeterministic) {
  TokenSet tokens(kSymbols);
  Lexicon lex = Lexicon::parse("AB A B |\nBA B A |\nA A |\nCAB C A B |\n", "test.lex", tokens);
  BigramLm lm(words_of(lex), 7);
  BeamOptions opt;
  opt.beam = 8;
  opt.beam_size_token = 4;
  opt.beam_threshold = 20;
  opt.sil_score = 0.25;
  opt.word_score = -0.75;
  opt.nbest = 3;
  auto data = random_emissions(40, tokens.size(), 99);
  Emissions e{data.data(), 40, tokens.size()};
  LexiconDecoder a(tokens, lex, lm, opt), b(tokens, lex, lm, opt);
  auto ra = a.decode(e), rb = b.decode(e), ra2 = a.decode(e);
  ASSERT_EQ(ra.size(), 3u);
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].path, rb[i].path);
    EXPECT_EQ(ra[i].path, ra2[i].path);
    EXPECT_EQ(ra[i].score, rb[i].score);
    if (i) EXPECT_GE(ra[i - 1].score, ra[i].score);
    // Recompute the total from the path: AM + lm_weight·LM + word and silence scores.
    double am = 0;
    int sil = 0;
    for (int t = 0; t < e.frames; ++t) {
      am += e.at(t, ra[i].path[t]);
      sil += ra[i].path[t] == tokens.silence();
    }
    EXPECT_NEAR(ra[i].am_score, am, 1e-4);
    EXPECT_NEAR(ra[i].score, am + opt.lm_weight * ra[i].lm_score + opt.word_score * ra[i].words.size() +
                                 opt.sil_score * sil, 1e-4);
    for (const auto& w : ra[i].words) {
      EXPECT_LT(w.start_frame, w.end_frame);
      EXPECT_NEAR(w.start, w.start_frame * 0.02, 1e-12);
      EXPECT_GT(w.confidence, 0.0);
      EXPECT_LE(w.confidence, 1.0);
    }
  }
}

// Greedy spells "KAT"; the lexicon allows CAT and KAT, the LM makes CAT far more likely.
TEST(LexiconDecoder, LanguageModelFixesGreedyError) {
  TokenSet tokens({"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "K", "T"});
  Lexicon lex = Lexicon::parse("CAT C A T |\nKAT K A T |\n", "test.lex", tokens);
  BigramLm lm(words_of(lex), 3);
  lm.set("<s>", "CAT", -0.05f);
  lm.set("<s>", "KAT", -4.0f);
  // Frames: K/C (K slightly ahead), A, T, |; every other token far below.
  const int V = tokens.size();
  std::vector<float> data(4 * V, -10.f);
  auto set = [&](int t, const char* s, float v) { data[t * V + tokens.index(s)] = v; };
  set(0, "K", 2.0f);
  set(0, "C", 1.6f);
  set(1, "A", 2.0f);
  set(2, "T", 2.0f);
  set(3, "|", 2.0f);
  Emissions e{data.data(), 4, V};
  EXPECT_EQ(ViterbiDecoder(tokens).decode(e).text(), "KAT");
  BeamOptions opt;
  opt.lm_weight = 2;
  opt.word_score = -1;
  EXPECT_EQ(LexiconDecoder(tokens, lex, lm, opt).decode(e).at(0).text(), "CAT");
  // Without the LM's weight the acoustics win.
  opt.lm_weight = 0;
  EXPECT_EQ(LexiconDecoder(tokens, lex, lm, opt).decode(e).at(0).text(), "KAT");
}

TEST(Lexicon, ParsesSpellingsAndRejectsBadLines) {
  TokenSet tokens(kSymbols);
  Lexicon lex = Lexicon::parse("AB A B |\n\nAB A B B |\nC C |\n", "x.lex", tokens);
  ASSERT_EQ(lex.size(), 3);  // AB, C, <unk>
  EXPECT_EQ(lex.entries()[0].spellings.size(), 2u);
  EXPECT_EQ(lex.word(lex.unk()), "<unk>");
  try {
    Lexicon::parse("AB A B |\nXY X Y |\n", "x.lex", tokens);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "x.lex:2: token 'X' of word 'XY' is not in the dictionary");
  }
  EXPECT_THROW(Lexicon::parse("AB\n", "x.lex", tokens), Error);
}

}  // namespace
}  // namespace w2v::decode
