// The beam decoders' memory stays bounded as the input grows (issue 13: transcribe --decoder
// lexicon grew ~120 MB per minute of audio), and collecting the history changes no result.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "decode/history.h"
#include "decode/lexicon_decoder.h"
#include "decode/lexicon_free_decoder.h"
#include "sentence_emissions.h"
#include "test_lm.h"

namespace w2v::decode {
namespace {

using testing::BigramLm;
using testing::sentence_emissions;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C", "D"};
const char* kLexicon = "AB A B |\nBA B A |\nA A |\nCAB C A B |\nAC A C |\nDAD D A D |\nBAD B A D |\nCAD C A D |\n";

std::vector<std::string> words_of(const Lexicon& lex) {
  std::vector<std::string> w;
  for (const auto& e : lex.entries()) w.push_back(e.word);
  return w;
}

void expect_same(const std::vector<DecodeResult>& a, const std::vector<DecodeResult>& b, const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].score, b[i].score) << where;
    EXPECT_EQ(a[i].path, b[i].path) << where;
    EXPECT_EQ(a[i].text(), b[i].text()) << where;
  }
}

// Peak history nodes + word histories for `frames` frames, collecting at `min_collect` nodes.
template <class Make>
int64_t peak_nodes(Make make, const TokenSet& tokens, const Lexicon& lex, int frames, int64_t min_collect,
                   std::vector<DecodeResult>* out = nullptr) {
  auto s = sentence_emissions(tokens, lex, frames, 11);
  auto d = make();
  d.set_min_collect(min_collect);
  auto r = d.decode(Emissions{s.data.data(), frames, tokens.size()});
  if (out) *out = r;
  return d.peak_history_nodes() + d.peak_word_histories();
}

// `make(options)` builds a decoder; both merge keys are checked. Memory is checked with nbest
// 1: under history merging each further n-best entry may be a runner-up that differs early and
// keeps its own path.
template <class Make>
void check_bounded(Make make, const TokenSet& tokens, const Lexicon& lex, const std::string& decoder) {
  const int64_t never = int64_t{1} << 40;
  for (MergeMode merge : {MergeMode::kState, MergeMode::kHistory}) {
    const std::string name = decoder + (merge == MergeMode::kState ? "/state" : "/history");
    auto with = [&](int nbest) {
      return [&, nbest] {
        BeamOptions o;
        o.beam = 40;
        o.beam_size_token = 0;
        o.beam_threshold = 25;
        o.merge = merge;
        o.nbest = nbest;
        return make(o);
      };
    };
    const int64_t short_peak = peak_nodes(with(1), tokens, lex, 2000, 4096);
    const int64_t long_peak = peak_nodes(with(1), tokens, lex, 20000, 4096);
    const int64_t uncollected = peak_nodes(with(1), tokens, lex, 20000, never);
    fmt::print("{}: peak history nodes + word histories 2000 frames {}, 20000 frames {}, 20000 uncollected {}\n", name,
               short_peak, long_peak, uncollected);
    // Ten times the frames, about the same memory; without collection it grows with the frames.
    EXPECT_LE(long_peak, short_peak * 3 / 2) << name;
    EXPECT_GE(uncollected, 20000 * 10) << name;
    EXPECT_GE(uncollected, 8 * long_peak) << name;
    // Results (3-best) equal those of the uncollected decode, collecting at 4096 nodes or after
    // every frame (the smallest trigger).
    std::vector<DecodeResult> kept, collected, every;
    peak_nodes(with(3), tokens, lex, 20000, never, &kept);
    peak_nodes(with(3), tokens, lex, 20000, 4096, &collected);
    peak_nodes(with(3), tokens, lex, 20000, 1, &every);
    expect_same(collected, kept, name + ": collected vs uncollected");
    expect_same(every, kept, name + ": collected every frame vs uncollected");
  }
}

TEST(DecoderHistory, LexiconDecoderMemoryBoundedResultsUnchanged) {
  TokenSet tokens(kSymbols);
  Lexicon lex = Lexicon::parse(kLexicon, "test.lex", tokens);
  BigramLm lm(words_of(lex), 5);
  check_bounded([&](const BeamOptions& o) { return LexiconDecoder(tokens, lex, lm, o); }, tokens, lex, "lexicon");
}

TEST(DecoderHistory, LexiconFreeDecoderMemoryBoundedResultsUnchanged) {
  TokenSet tokens(kSymbols);
  Lexicon lex = Lexicon::parse(kLexicon, "test.lex", tokens);
  BigramLm lm(kSymbols, 6);
  check_bounded([&](const BeamOptions& o) { return LexiconFreeDecoder(tokens, lm, o); }, tokens, lex, "lexicon-free");
}

TEST(DecoderHistory, BeamHistorySettlesTheCommonPrefix) {
  BeamHistory h;
  h.reset();
  // Frame 0: one node; frame 1: two children of it; frame 2: one child of each.
  int a = h.add(BeamHistory::kStart, 5, -1);
  h.end_frame();
  int b = h.add(a, 6, 3), c = h.add(a, 7, -1);
  h.end_frame();
  int dead = h.add(b, 8, -1), d = h.add(c, 9, -1);
  h.end_frame();
  (void)dead;
  std::vector<int> live = {d};
  h.collect(live);
  // Only the chain a-c-d is reached; frames 0 and 1 are shared, so only d stays in the arena.
  EXPECT_EQ(h.nodes(), 1);
  std::vector<int> path, words;
  h.backtrack(live[0], path, words);
  EXPECT_EQ(path, (std::vector<int>{5, 7, 9}));
  EXPECT_EQ(words, (std::vector<int>{-1, -1, -1}));
}

TEST(DecoderHistory, WordHistoriesKeepEqualityOfLiveSequences) {
  WordHistories w;
  w.reset();
  const int x = w.child(w.root(), 1), xy = w.child(x, 2), xz = w.child(x, 3);
  EXPECT_EQ(w.child(w.root(), 1), x);
  EXPECT_NE(xy, xz);
  std::vector<int> live = {xy, xz, xy, w.root()};
  w.collect(live);
  // Nothing is held whose parent is not live: only ids survive, equal ones equal.
  EXPECT_EQ(w.size(), 0);
  EXPECT_EQ(live[0], live[2]);
  EXPECT_NE(live[0], live[1]);
  const int a = w.child(live[0], 5), b = w.child(live[1], 5);
  EXPECT_NE(a, b);
  EXPECT_EQ(w.child(live[0], 5), a);
  for (int id : {a, b}) EXPECT_TRUE(id != live[0] && id != live[1] && id != live[3]);
  // A pair whose both ends are live is kept across a collection.
  const int r1 = w.child(live[3], 1);
  std::vector<int> again = {live[3], r1};
  w.collect(again);
  EXPECT_EQ(w.child(again[0], 1), again[1]);
}

}  // namespace
}  // namespace w2v::decode
