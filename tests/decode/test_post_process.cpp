// --post-process: fairseq's rules on unit lines (hand-checked examples of data_utils.post_process),
// and the greedy decoder's words = the post-processed line of its tokens for every mode, with
// word times spanning the units that spell each word.
#include <gtest/gtest.h>

#include <random>

#include "decode/post_process.h"
#include "decode/viterbi.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

TEST(PostProcess, FairseqRulesOnUnitLines) {
  EXPECT_EQ(post_process("H E L L O | W O R L D |", PostProcess::kLetter), "HELLO WORLD");
  EXPECT_EQ(post_process("| | A |  | B", PostProcess::kLetter), "A B");
  EXPECT_EQ(post_process("_HE LLO _WOR LD", PostProcess::kWordpiece), "HELLO WORLD");
  EXPECT_EQ(post_process("\u2581HE LLO \u2581WOR LD", PostProcess::kSentencepiece), "HELLO WORLD");
  // The other modes leave foreign boundary marks alone, as fairseq's replace chain does.
  EXPECT_EQ(post_process("\u2581HE LLO |", PostProcess::kWordpiece), "\u2581HELLO|");
  EXPECT_EQ(post_process("_A B", PostProcess::kSentencepiece), "_AB");
  EXPECT_EQ(post_process("H E | L", PostProcess::kNone), "H E | L");
  EXPECT_EQ(post_process("", PostProcess::kSentencepiece), "");
}

TEST(PostProcess, ParsesFairseqNames) {
  EXPECT_EQ(parse_post_process("letter"), PostProcess::kLetter);
  EXPECT_EQ(parse_post_process("wordpiece"), PostProcess::kWordpiece);
  EXPECT_EQ(parse_post_process("sentencepiece"), PostProcess::kSentencepiece);
  EXPECT_EQ(parse_post_process("none"), PostProcess::kNone);
  EXPECT_THROW(parse_post_process("subword_nmt"), Error);
}

TEST(PostProcess, GreedyWordsEqualPostProcessedTokens) {
  const std::vector<std::string> symbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B",
                                            "\u2581A", "\u2581B", "_A", "B_", "AB"};
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0.f, 2.f);
  const int V = static_cast<int>(symbols.size());
  int words = 0;
  for (auto mode : {PostProcess::kLetter, PostProcess::kWordpiece, PostProcess::kSentencepiece, PostProcess::kNone}) {
    TokenSet tokens(symbols, mode);
    for (int u = 0; u < 30; ++u) {
      const int T = 5 + u;
      std::vector<float> data(static_cast<size_t>(T) * V);
      for (auto& x : data) x = n(rng);
      auto r = ViterbiDecoder(tokens).decode({data.data(), T, V});
      std::string line;
      for (int id : r.tokens)
        if (!tokens.is_special(id)) line += (line.empty() ? "" : " ") + symbols[id];
      EXPECT_EQ(r.text(), post_process(line, mode)) << "mode " << static_cast<int>(mode) << " utterance " << u;
      words += static_cast<int>(r.words.size());
    }
  }
  EXPECT_GT(words, 100);
}

TEST(PostProcess, SentencepieceWordTimes) {
  const std::vector<std::string> symbols = {"<s>", "<pad>", "</s>", "<unk>", "\u2581HE", "LLO", "\u2581WOR", "LD"};
  TokenSet tokens(symbols, PostProcess::kSentencepiece);
  const int V = tokens.size();
  // Path: <b> ▁HE ▁HE LLO <b> <b> ▁WOR <b> LD LD <b> -> "HELLO" frames [1,4), "WORLD" [6,10).
  const std::vector<int> path = {0, 4, 4, 5, 0, 0, 6, 0, 7, 7, 0};
  std::vector<float> data(path.size() * V, 0.f);
  for (size_t t = 0; t < path.size(); ++t) data[t * V + path[t]] = 5.f;
  auto r = ViterbiDecoder(tokens).decode({data.data(), static_cast<int>(path.size()), V});
  ASSERT_EQ(r.words.size(), 2u);
  EXPECT_EQ(r.words[0].word, "HELLO");
  EXPECT_EQ(r.words[0].start_frame, 1);
  EXPECT_EQ(r.words[0].end_frame, 4);
  EXPECT_EQ(r.words[1].word, "WORLD");
  EXPECT_EQ(r.words[1].start_frame, 6);
  EXPECT_EQ(r.words[1].end_frame, 10);
}

}  // namespace
}  // namespace w2v::decode
