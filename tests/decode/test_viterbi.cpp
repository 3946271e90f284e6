// Greedy decoding against fairseq's viterbi + letter post-process (tools/oracle/greedy_ctc.py,
// run live), and hand-checked word times.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "decode/viterbi.h"

namespace w2v::decode {
namespace {

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N"};

TEST(Viterbi, MatchesFairseqGreedy) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.f, 2.f);
  nlohmann::json req = {{"symbols", kSymbols}, {"emissions", nlohmann::json::array()}};
  std::vector<std::vector<float>> utts;
  for (int u = 0; u < 20; ++u) {
    int T = 10 + u * 3;
    std::vector<float> e(T * V);
    for (int t = 0; t < T; ++t)
      for (int v = 0; v < V; ++v) e[t * V + v] = n(rng) + (v == 0 ? 1.5f : 0.f) + (v == 4 ? 0.7f : 0.f);
    nlohmann::json rows = nlohmann::json::array();
    for (int t = 0; t < T; ++t) rows.push_back(std::vector<float>(e.begin() + t * V, e.begin() + (t + 1) * V));
    req["emissions"].push_back(rows);
    utts.push_back(std::move(e));
  }
  std::string in = ::testing::TempDir() + "/greedy_in.json";
  std::ofstream(in) << req.dump();
  std::string cmd = "/usr/bin/python3 " W2V_SOURCE_DIR "/tools/oracle/greedy_ctc.py < " + in;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t k = fread(buf, 1, sizeof buf, pipe)) out.append(buf, k);
  ASSERT_EQ(pclose(pipe), 0) << cmd;
  auto expected = nlohmann::json::parse(out);
  ASSERT_EQ(expected.size(), utts.size());
  ViterbiDecoder decoder(tokens);
  int words = 0;
  for (size_t u = 0; u < utts.size(); ++u) {
    Emissions e{utts[u].data(), static_cast<int>(utts[u].size()) / V, V};
    auto r = decoder.decode(e);
    EXPECT_EQ(r.text(), expected[u]["text"].get<std::string>()) << "utterance " << u;
    EXPECT_EQ(r.tokens, expected[u]["tokens"].get<std::vector<int>>()) << "utterance " << u;
    EXPECT_NEAR(r.score, expected[u]["score"].get<double>(), 1e-4) << "utterance " << u;
    words += static_cast<int>(r.words.size());
  }
  EXPECT_GT(words, 20);  // the data exercises word splitting
}

TEST(Viterbi, WordTimesAndConfidence) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  // Path: | A A <b> A N | <b> T O | -> words "AAN" frames [1,6) and "TO" frames [8,10).
  const std::vector<std::string> path = {"|", "A", "A", "<s>", "A", "N", "|", "<s>", "T", "O", "|"};
  std::vector<float> data(path.size() * V, 0.f);
  for (size_t t = 0; t < path.size(); ++t) data[t * V + tokens.index(path[t])] = 5.f;
  Emissions e{data.data(), static_cast<int>(path.size()), V};
  auto r = ViterbiDecoder(tokens).decode(e);
  ASSERT_EQ(r.words.size(), 2u);
  EXPECT_EQ(r.words[0].word, "AAN");
  EXPECT_EQ(r.words[0].start_frame, 1);
  EXPECT_EQ(r.words[0].end_frame, 6);
  EXPECT_NEAR(r.words[0].start, 0.02, 1e-12);
  EXPECT_NEAR(r.words[0].end, 0.12, 1e-12);
  EXPECT_EQ(r.words[1].word, "TO");
  EXPECT_EQ(r.words[1].start_frame, 8);
  EXPECT_EQ(r.words[1].end_frame, 10);
  // Every frame has posterior e^5 / (e^5 + 9) for its token.
  EXPECT_NEAR(r.words[0].confidence, std::exp(5.0) / (std::exp(5.0) + 9.0), 1e-6);
}

TEST(Viterbi, ConfidenceCountsTheWordsTokenFramesOnly) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  // "AN" over frames [0, 3): A, an unsure blank (blank 1.0 vs N 0.9), N; then '|'.
  const std::vector<std::string> path = {"A", "<s>", "N", "|"};
  std::vector<float> data(path.size() * V, 0.f);
  for (size_t t = 0; t < path.size(); ++t) data[t * V + tokens.index(path[t])] = 5.f;
  data[1 * V + tokens.index("<s>")] = 1.0f;
  data[1 * V + tokens.index("N")] = 0.9f;
  Emissions e{data.data(), static_cast<int>(path.size()), V};
  auto r = ViterbiDecoder(tokens).decode(e);
  ASSERT_EQ(r.words.size(), 1u);
  EXPECT_EQ(r.words[0].word, "AN");
  EXPECT_EQ(r.words[0].end_frame, 3);
  // The blank frame's low posterior does not count: the A and N frames' posterior.
  EXPECT_NEAR(r.words[0].confidence, std::exp(5.0) / (std::exp(5.0) + V - 1), 1e-6);
}

}  // namespace
}  // namespace w2v::decode
