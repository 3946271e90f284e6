// The front ends' entry points: emissions files round-trip and reject damage; decode_all on
// several threads equals one-by-one decoding; missing options are clear errors.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "decode/decoder.h"
#include "decode/emission_file.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::decode {
namespace {

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C"};

std::vector<EmissionMatrix> random_set(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 2.f);
  std::vector<EmissionMatrix> out;
  for (int i = 0; i < n; ++i) {
    EmissionMatrix u;
    u.id = std::to_string(10 + i);
    u.frames = 5 + 7 * i;
    u.vocab = static_cast<int>(kSymbols.size());
    u.data.resize(static_cast<size_t>(u.frames) * u.vocab);
    for (auto& x : u.data) x = g(rng);
    out.push_back(std::move(u));
  }
  return out;
}

TEST(EmissionFile, RoundTripsAndRejectsDamage) {
  auto set = random_set(4, 1);
  std::string path = ::testing::TempDir() + "/emissions.bin";
  write_emissions(path, set);
  auto back = read_emissions(path);
  ASSERT_EQ(back.size(), set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(back[i].id, set[i].id);
    EXPECT_EQ(back[i].frames, set[i].frames);
    EXPECT_EQ(back[i].data, set[i].data);
  }
  std::string content = read_file(path);
  write_file_atomic(path, content.substr(0, content.size() - 3));
  try {
    read_emissions(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": truncated emissions file"), std::string::npos) << e.what();
  }
  write_file_atomic(path, "not emissions at all");
  EXPECT_THROW(read_emissions(path), Error);
}

std::string write_lm() {
  std::string path = ::testing::TempDir() + "/factory.arpa";
  std::ofstream(path) << "\\data\\\nngram 1=7\n\n\\1-grams:\n-1.0\t<unk>\n-99\t<s>\n-0.7\t</s>\n"
                         "-0.9\tAB\n-1.1\tBA\n-0.8\tC\n-1.3\tCAB\n\n\\end\\\n";
  return path;
}

TEST(DecodeAll, ThreadsGiveTheSameResults) {
  std::string lex = ::testing::TempDir() + "/factory.lex";
  std::ofstream(lex) << "AB A B |\nBA B A |\nC C |\nCAB C A B |\n";
  auto set = random_set(9, 2);
  std::vector<Emissions> views;
  for (const auto& u : set) views.push_back(u.view());
  BeamOptions opt;
  opt.beam = 30;
  for (auto kind : {DecoderKind::kViterbi, DecoderKind::kLexicon, DecoderKind::kLexiconFree}) {
    DecoderFactory factory(kind, kSymbols, lex, write_lm(), opt);
    auto one = decode_all(factory, views, 1);
    // The progress callback sees 1, 2, ..., n once each, one call at a time.
    std::vector<size_t> reported;
    auto three = decode_all(factory, views, 3, [&](size_t done) { reported.push_back(done); });
    ASSERT_EQ(reported.size(), views.size());
    for (size_t i = 0; i < reported.size(); ++i) EXPECT_EQ(reported[i], i + 1);
    ASSERT_EQ(one.size(), views.size());
    auto single = factory.make();
    for (size_t i = 0; i < views.size(); ++i) {
      auto direct = single->decode(views[i]);
      ASSERT_EQ(one[i].size(), 1u);
      EXPECT_EQ(one[i][0].path, direct[0].path);
      EXPECT_EQ(three[i][0].path, direct[0].path);
      EXPECT_EQ(three[i][0].score, direct[0].score);
    }
  }
}

// w2v tune re-weights one factory for every setting: with_options must decode exactly as a
// factory built afresh with those options (also with hotwords, whose trie depends on lm_weight).
TEST(DecoderFactory, WithOptionsEqualsAFreshFactory) {
  std::string lex = ::testing::TempDir() + "/factory.lex";
  std::ofstream(lex) << "AB A B |\nBA B A |\nC C |\nCAB C A B |\n";
  auto set = random_set(9, 3);
  std::vector<Emissions> views;
  for (const auto& u : set) views.push_back(u.view());
  BeamOptions base;
  base.beam = 3;  // narrow, so that the hotwords' look-ahead (bonus / lm_weight) decides pruning
  base.beam_threshold = 3;
  for (bool hot : {false, true}) {
    if (hot) base.hotwords = {{"CAB", 8.0}, {"BA", 4.0}};
    for (auto kind : {DecoderKind::kLexicon, DecoderKind::kLexiconFree}) {
      const DecoderFactory factory(kind, kSymbols, lex, write_lm(), base);
      int differs = 0;
      for (double lm_weight : {0.0, 0.5, 4.0}) {
        BeamOptions o = base;
        o.lm_weight = lm_weight;
        o.word_score = lm_weight - 1;
        o.sil_score = -lm_weight;
        const auto reweighted = decode_all(factory.with_options(o), views, 2);
        const auto fresh = decode_all(DecoderFactory(kind, kSymbols, lex, write_lm(), o), views, 1);
        const auto original = decode_all(factory, views, 1);
        for (size_t i = 0; i < views.size(); ++i) {
          EXPECT_EQ(reweighted[i][0].path, fresh[i][0].path);
          EXPECT_EQ(reweighted[i][0].score, fresh[i][0].score);
          differs += reweighted[i][0].score != original[i][0].score;
        }
      }
      EXPECT_GT(differs, 0) << "the options had no effect (test is stale?)";
    }
  }
}

TEST(DecoderFactory, MissingOptionsAreErrors) {
  BeamOptions opt;
  EXPECT_THROW(DecoderFactory(DecoderKind::kLexicon, kSymbols, "", write_lm(), opt), Error);
  EXPECT_THROW(DecoderFactory(DecoderKind::kLexiconFree, kSymbols, "", "", opt), Error);
  EXPECT_THROW(parse_decoder_kind("beam"), Error);
  EXPECT_NO_THROW(DecoderFactory(DecoderKind::kViterbi, kSymbols, "", "", opt));
}

TEST(DecoderFactory, UnnamedDecoderFollowsTheGivenFiles) {
  DecoderOptions o;
  EXPECT_EQ(chosen_decoder(o), "viterbi");
  o.lm = "lm.arpa";
  EXPECT_EQ(chosen_decoder(o), "lexicon-free");
  o.lexicon = "lexicon.txt";
  EXPECT_EQ(chosen_decoder(o), "lexicon");
  o.decoder = "viterbi";  // a named decoder wins
  EXPECT_EQ(chosen_decoder(o), "viterbi");
}

}  // namespace
}  // namespace w2v::decode
