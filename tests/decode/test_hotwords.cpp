// Hotwords: the file format, the bonus bookkeeping, spellings from the tokens, and the effect
// on both beam decoders (a boosted word wins a close call, a word missing from the lexicon can
// be recognised, a broken phrase keeps no bonus, boost 0 changes nothing).
#include <gtest/gtest.h>

#include "decode/hotwords.h"
#include "decode/lexicon_decoder.h"
#include "decode/lexicon_free_decoder.h"
#include "test_lm.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

using testing::BigramLm;

TEST(Hotwords, ParsesWordsPhrasesAndBoosts) {
  auto h = parse_hotwords("FOO 3.5\n# comment\n\nNEW  YORK\nBAR -1\n", "hot.txt", 2.0);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].phrase, "FOO");
  EXPECT_EQ(h[0].boost, 3.5);
  EXPECT_EQ(h[1].phrase, "NEW YORK");
  EXPECT_EQ(h[1].boost, 2.0);
  EXPECT_EQ(h[2].boost, -1.0);
  try {
    parse_hotwords("FOO\n7\n", "hot.txt", 2.0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "hot.txt:2: expected 'WORD [WORD ...] [BOOST]', got only a number");
  }
  EXPECT_THROW(parse_hotwords("FOO inf\n", "hot.txt", 2.0), Error);
}

TEST(Hotwords, BiasTrieGivesBackBrokenMatches) {
  BiasTrie t;
  t.add({1, 2}, 4.0);  // phrase "1 2": 2 per label
  t.add({3}, 1.0);
  int s = BiasTrie::kRoot;
  EXPECT_DOUBLE_EQ(t.step(s, 1, true, -1), 2.0);
  EXPECT_DOUBLE_EQ(t.step(s, 2, true, -1), 2.0);  // complete: settled at the root
  EXPECT_EQ(s, BiasTrie::kRoot);
  EXPECT_DOUBLE_EQ(t.step(s, 1, true, -1), 2.0);
  EXPECT_DOUBLE_EQ(t.step(s, 3, true, -1), -2.0 + 1.0);  // break, then the word 3 restarts a match
  EXPECT_DOUBLE_EQ(t.step(s, 1, true, -1), 2.0);
  EXPECT_DOUBLE_EQ(t.finish(s, -1), -2.0);  // unfinished at the end
  // A negative boost suppresses: the full phrase costs it, a broken one nothing.
  BiasTrie neg;
  neg.add({4, 5}, -3.0);
  s = BiasTrie::kRoot;
  EXPECT_DOUBLE_EQ(neg.step(s, 4, true, -1), -1.5);
  EXPECT_DOUBLE_EQ(neg.step(s, 6, true, -1), 1.5);
  EXPECT_DOUBLE_EQ(neg.step(s, 4, true, -1), -1.5);
  EXPECT_DOUBLE_EQ(neg.step(s, 5, true, -1), -1.5);  // complete: -3 kept
  // Token labels: a break waits for the boundary (7) before a match may start again.
  s = BiasTrie::kRoot;
  EXPECT_DOUBLE_EQ(t.step(s, 5, false, 7), 0.0);
  EXPECT_EQ(s, BiasTrie::kDead);
  EXPECT_DOUBLE_EQ(t.step(s, 3, false, 7), 0.0);  // inside another word: no match
  EXPECT_DOUBLE_EQ(t.step(s, 7, false, 7), 0.0);
  EXPECT_DOUBLE_EQ(t.step(s, 3, false, 7), 1.0);
}

TEST(Hotwords, SpellsWordsFromTheTokens) {
  TokenSet letters({"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C"});
  EXPECT_EQ(spell_word("CAB", letters, PostProcess::kLetter, true), (std::vector<int>{7, 5, 6, 4}));
  EXPECT_THROW(spell_word("CAX", letters, PostProcess::kLetter, true), Error);
  TokenSet pieces({"<s>", "<pad>", "</s>", "<unk>", "\u2581CA", "\u2581C", "A", "B", "AB"},
                  PostProcess::kSentencepiece);
  EXPECT_EQ(spell_word("CAB", pieces, PostProcess::kSentencepiece, false), (std::vector<int>{4, 7}));
}

// Frames spelling C A T | with C and K nearly tied (K ahead): the LM is flat between CAT and KAT.
struct CloseCall {
  TokenSet tokens{{"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "K", "T"}};
  std::vector<float> data;
  Emissions e;
  CloseCall() {
    const int V = tokens.size();
    const char* frames[] = {"K", "A", "T", "|"};
    data.assign(4 * V, -8.f);
    for (int t = 0; t < 4; ++t) data[t * V + tokens.index(frames[t])] = 2.f;
    data[tokens.index("C")] = 1.7f;
    e = {data.data(), 4, V};
  }
};

TEST(Hotwords, LexiconDecoderBoostsAndSpellsMissingWords) {
  CloseCall x;
  Lexicon lex = Lexicon::parse("CAT C A T |\nKAT K A T |\nTA T A |\n", "test.lex", x.tokens);
  BigramLm lm({"CAT", "KAT", "TA", "KAC"}, 3);
  lm.set("<s>", "CAT", -1.0f);
  lm.set("<s>", "KAT", -1.0f);
  lm.set("<s>", "KAC", -1.0f);
  BeamOptions o;
  o.beam_size_token = 0;
  auto plain = LexiconDecoder(x.tokens, lex, lm, o).decode(x.e).at(0);
  EXPECT_EQ(plain.text(), "KAT");
  o.hotwords = {{"CAT", 1.0}};
  auto boosted = LexiconDecoder(x.tokens, lex, lm, o).decode(x.e).at(0);
  EXPECT_EQ(boosted.text(), "CAT");
  // The bonus is the boost, nothing else: same words -> score + boost.
  o.hotwords = {{"KAT", 0.5}};
  EXPECT_NEAR(LexiconDecoder(x.tokens, lex, lm, o).decode(x.e).at(0).score, plain.score + 0.5, 1e-9);
  o.hotwords = {{"CAT", 0.0}};
  auto zero = LexiconDecoder(x.tokens, lex, lm, o).decode(x.e).at(0);
  EXPECT_EQ(zero.path, plain.path);
  EXPECT_DOUBLE_EQ(zero.score, plain.score);
  // A broken phrase keeps nothing: "KAT TA" is not said, so KAT scores as without hotwords.
  o.hotwords = {{"KAT TA", 3.0}};
  auto broken = LexiconDecoder(x.tokens, lex, lm, o).decode(x.e).at(0);
  EXPECT_EQ(broken.text(), "KAT");
  EXPECT_NEAR(broken.score, plain.score, 1e-9);
  // A hotword the lexicon lacks is spelled from the tokens and can be recognised.
  CloseCall y;
  y.data[2 * y.tokens.size() + y.tokens.index("C")] = 1.8f;  // frame 2: C close behind T
  o.hotwords = {{"KAC", 2.0}};
  EXPECT_EQ(LexiconDecoder(y.tokens, lex, lm, o).decode(y.e).at(0).text(), "KAC");
  o.hotwords = {{"KAX", 2.0}};
  EXPECT_THROW(LexiconDecoder(y.tokens, lex, lm, o), Error);
}

TEST(Hotwords, LexiconFreeDecoderBoostsSpelledWords) {
  CloseCall x;
  BigramLm lm({"|", "A", "C", "K", "T"}, 4);
  lm.set("<s>", "C", -1.0f);
  lm.set("<s>", "K", -1.0f);
  lm.set("C", "A", -1.0f);
  lm.set("K", "A", -1.0f);
  BeamOptions o;
  o.beam_size_token = 0;
  auto plain = LexiconFreeDecoder(x.tokens, lm, o).decode(x.e).at(0);
  EXPECT_EQ(plain.text(), "KAT");
  o.hotwords = {{"CAT", 1.0}};
  EXPECT_EQ(LexiconFreeDecoder(x.tokens, lm, o).decode(x.e).at(0).text(), "CAT");
  o.hotwords = {{"KAT", 0.5}};
  EXPECT_NEAR(LexiconFreeDecoder(x.tokens, lm, o).decode(x.e).at(0).score, plain.score + 0.5, 1e-9);
  o.hotwords = {{"KATA", 3.0}};  // a prefix of KAT matches, then the word ends: nothing kept
  auto broken = LexiconFreeDecoder(x.tokens, lm, o).decode(x.e).at(0);
  EXPECT_EQ(broken.text(), "KAT");
  EXPECT_NEAR(broken.score, plain.score, 1e-9);
}

}  // namespace
}  // namespace w2v::decode
