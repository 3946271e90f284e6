// The lexicon decoder against tools/oracle/flashlight_lexicon.py, a Python reference of
// flashlight-text's LexiconDecoder (criterion CTC), on tiny random cases with a finite beam,
// threshold and token top-k, so that pruning and merging decide the result: MergeMode::kHistory
// must give flashlight's n-best exactly (scores, paths, words), kState the same search keyed on
// the bigram state. With an unbounded beam both must reach the best score of every path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <random>

#include "decode/lexicon_decoder.h"
#include "test_lm.h"
#include "util/fs.h"

namespace w2v::decode {
namespace {

using nlohmann::json;
using testing::BigramLm;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C"};

json run_oracle(const json& request) {
  const std::string in = ::testing::TempDir() + "flashlight_oracle_" + std::to_string(getpid()) + ".json";
  write_file_atomic(in, request.dump());
  const std::string cmd = "/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/tools/oracle/flashlight_lexicon.py " + in;
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int rc = pclose(pipe);
  std::remove(in.c_str());
  if (rc != 0) throw std::runtime_error("oracle failed (" + std::to_string(rc) + "): " + cmd);
  return json::parse(out);
}

json request(const TokenSet& tokens, const Lexicon& lex, const BigramLm& lm, const BeamOptions& o,
             const std::vector<float>& data, int frames, const char* merge) {
  json r;
  r["symbols"] = kSymbols;
  r["blank"] = tokens.blank();
  r["sil"] = tokens.silence();
  r["unk"] = lex.unk();
  for (const auto& e : lex.entries()) r["words"].push_back({e.word, e.spellings});
  const int n = static_cast<int>(lm.vocab_size());
  std::vector<double> table;
  for (int prev = 0; prev < n; ++prev) {
    lm::State s;
    s.words[0] = static_cast<lm::WordIndex>(prev);
    s.length = 1;
    for (int w = 0; w < n; ++w) table.push_back(lm.score(s, static_cast<lm::WordIndex>(w)).log10_prob);
  }
  std::vector<int> index;
  for (const auto& e : lex.entries()) index.push_back(static_cast<int>(lm.index(e.word)));
  r["lm"] = {{"n", n}, {"begin", 1}, {"end", 2}, {"table", table}, {"index", index}};
  for (int t = 0; t < frames; ++t)
    r["emissions"].push_back(std::vector<double>(data.begin() + t * tokens.size(), data.begin() + (t + 1) * tokens.size()));
  r["options"] = {{"beam", o.beam},           {"beam_size_token", o.beam_size_token}, {"beam_threshold", o.beam_threshold},
                  {"lm_weight", o.lm_weight}, {"word_score", o.word_score},           {"sil_score", o.sil_score},
                  {"log_add", o.log_add},     {"nbest", o.nbest}};
  r["options"]["unk_score"] = std::isinf(o.unk_score) ? json(nullptr) : json(o.unk_score);
  r["merge"] = merge;
  r["enumerate"] = frames <= 7;
  return r;
}

struct Case {
  const char* lexicon;
  double lm_weight, word_score, sil_score, unk_score;
};

TEST(FlashlightOracle, LexiconDecoderMatchesPythonReference) {
  TokenSet tokens(kSymbols);
  const std::vector<Case> cases = {
      {"AB A B |\nBA B A |\nA A |\nCAB C A B |\nAC A C |\nAB A B B |\n", 1.5, -0.5, 0.3, -INFINITY},
      {"A A\nB B\nAB A B\nCA C A\n", 2.0, 0.7, -0.4, -INFINITY},
      {"ABC A B C |\nBA B A |\nCC C C |\n", 0.8, -1.0, 0.0, -2.0},
      // Only multi-token spellings and a rewarded <unk>: a token repeated at the root ends
      // <unk> again in flashlight (its one-token-word guard covers words, not <unk>).
      {"AB A B\nBA B A\nCC C C\n", 1.0, -0.5, 0.0, 1.5},
  };
  int compared = 0, differ = 0, enumerated = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    Lexicon lex = Lexicon::parse(cases[c].lexicon, "test.lex", tokens);
    std::vector<std::string> words;
    for (const auto& e : lex.entries()) words.push_back(e.word);
    BigramLm lm(words, 300 + c);
    for (unsigned seed = 0; seed < 8; ++seed) {
      BeamOptions o;
      o.beam = 3 + seed % 4;
      o.beam_size_token = 4 + seed % 3;
      o.beam_threshold = 6 + 2 * (seed % 3);
      o.lm_weight = cases[c].lm_weight;
      o.word_score = cases[c].word_score;
      o.sil_score = cases[c].sil_score;
      o.unk_score = cases[c].unk_score;
      o.log_add = seed % 4 == 3;
      o.nbest = 3;
      const int frames = seed < 4 ? 6 + seed % 2 : 12 + seed;
      std::mt19937 rng(500 * c + seed);
      std::normal_distribution<float> normal(0.f, 1.5f);
      std::vector<float> data(static_cast<size_t>(frames) * tokens.size());
      for (auto& x : data) x = normal(rng);
      Emissions e{data.data(), frames, tokens.size()};
      std::vector<std::string> best_text;
      for (const char* merge : {"history", "state"}) {
        o.merge = std::string(merge) == "history" ? MergeMode::kHistory : MergeMode::kState;
        LexiconDecoder decoder(tokens, lex, lm, o);
        auto ours = decoder.decode(e);
        json want = run_oracle(request(tokens, lex, lm, o, data, frames, merge));
        const std::string where = fmt::format("case {} seed {} merge {}", c, seed, merge);
        ASSERT_EQ(ours.size(), want["hyps"].size()) << where;
        for (size_t i = 0; i < ours.size(); ++i) {
          EXPECT_NEAR(ours[i].score, want["hyps"][i]["score"].get<double>(), 1e-6) << where << " rank " << i;
          EXPECT_EQ(ours[i].path, want["hyps"][i]["path"].get<std::vector<int>>()) << where << " rank " << i;
          std::vector<std::string> w;
          for (const auto& span : ours[i].words) w.push_back(span.word);
          EXPECT_EQ(w, want["hyps"][i]["words"].get<std::vector<std::string>>()) << where << " rank " << i;
        }
        best_text.push_back(ours.empty() ? "" : ours[0].text() + fmt::format(" {:.6f}", ours[0].score));
        ++compared;
        // Max-merging with an unbounded beam loses nothing: the best of every path.
        if (want.contains("enumerated") && !o.log_add) {
          BeamOptions all = o;
          all.beam = 1 << 20;
          all.beam_threshold = 1e30;
          all.beam_size_token = 0;
          auto exact = LexiconDecoder(tokens, lex, lm, all).decode(e);
          ASSERT_FALSE(exact.empty());
          EXPECT_NEAR(exact[0].score, want["enumerated"].get<double>(), 1e-6) << where;
          ++enumerated;
        }
      }
      differ += best_text[0] != best_text[1];
    }
  }
  EXPECT_EQ(compared, 64);
  EXPECT_EQ(enumerated, 24);
  // The two merge keys are different searches: on some of these cases the best result differs.
  EXPECT_GE(differ, 1);
}

}  // namespace
}  // namespace w2v::decode
