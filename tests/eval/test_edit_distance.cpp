// Edit distance and alignment: hand-computed cases, and random pairs against torchaudio's
// edit_distance (tools/oracle/edit_distance.py, run live).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "eval/edit_distance.h"
#include "eval/scoring.h"

namespace w2v::eval {
namespace {

using Words = std::vector<std::string>;

// Replays the alignment: it must consume both sequences exactly and its counts must agree.
void check_alignment(const Words& ref, const Words& hyp, const Alignment& a) {
  size_t r = 0, h = 0, m = 0, s = 0, d = 0, i = 0;
  for (EditOp op : a.ops) {
    switch (op) {
      case EditOp::kMatch: ASSERT_EQ(ref.at(r++), hyp.at(h++)); ++m; break;
      case EditOp::kSubstitute: ASSERT_NE(ref.at(r++), hyp.at(h++)); ++s; break;
      case EditOp::kDelete: ++r, ++d; break;
      case EditOp::kInsert: ++h, ++i; break;
    }
  }
  EXPECT_EQ(r, ref.size());
  EXPECT_EQ(h, hyp.size());
  EXPECT_EQ(m, a.matches);
  EXPECT_EQ(s, a.substitutions);
  EXPECT_EQ(d, a.deletions);
  EXPECT_EQ(i, a.insertions);
}

TEST(EditDistance, HandComputed) {
  auto a = align(split_words("the cat sat on the mat"), split_words("the bat sat on mat"));
  EXPECT_EQ(a.matches, 4u);
  EXPECT_EQ(a.substitutions, 1u);
  EXPECT_EQ(a.deletions, 1u);
  EXPECT_EQ(a.insertions, 0u);
  // Equal-cost alignments resolve to substitutions first: 3 S rather than S + D + I.
  auto tie = align(split_words("the cat sat on the mat"), split_words("the bat sat on mat today"));
  EXPECT_EQ(tie.substitutions, 3u);
  EXPECT_EQ(tie.errors(), 3u);

  auto empty_hyp = align(split_words("a b c"), Words{});
  EXPECT_EQ(empty_hyp.deletions, 3u);
  EXPECT_EQ(empty_hyp.errors(), 3u);
  auto empty_ref = align(Words{}, split_words("x y"));
  EXPECT_EQ(empty_ref.insertions, 2u);
  EXPECT_EQ(edit_distance(Words{}, Words{}), 0u);
  // kitten -> sitting: 2 substitutions + 1 insertion.
  auto k = align(split_chars("kitten"), split_chars("sitting"));
  EXPECT_EQ(k.substitutions, 2u);
  EXPECT_EQ(k.insertions, 1u);
  EXPECT_EQ(k.deletions, 0u);
  check_alignment(split_chars("kitten"), split_chars("sitting"), k);
}

TEST(EditDistance, RandomPairsMatchTorchaudio) {
  std::mt19937 rng(7);
  std::vector<std::pair<Words, Words>> pairs;
  for (int n = 0; n < 300; ++n) {
    auto draw = [&](int max_len) {
      Words w(std::uniform_int_distribution<int>(0, max_len)(rng));
      for (auto& x : w) x = std::string(1, static_cast<char>('a' + std::uniform_int_distribution<int>(0, 3)(rng)));
      return w;
    };
    pairs.emplace_back(draw(12), draw(12));
  }
  std::string in = testing::TempDir() + "/edit_distance_in.json";
  nlohmann::json input = nlohmann::json::array();
  for (const auto& [ref, hyp] : pairs) input.push_back(nlohmann::json::array({ref, hyp}));
  std::ofstream(in) << input.dump();
  std::string cmd = "/usr/bin/python3 " W2V_SOURCE_DIR "/tools/oracle/edit_distance.py < " + in;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0) << "oracle failed: " << cmd;
  auto expected = nlohmann::json::parse(out).get<std::vector<size_t>>();
  ASSERT_EQ(expected.size(), pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto a = align(pairs[i].first, pairs[i].second);
    EXPECT_EQ(a.errors(), expected[i]) << "pair " << i;
    check_alignment(pairs[i].first, pairs[i].second, a);
  }
}

// The distance-only, capped version (config's "did you mean") against the alignment, on strings
// and word vectors: equal up to the cap, cap + 1 beyond it.
TEST(EditDistance, CappedDistanceEqualsAlignmentUpToTheCap) {
  std::mt19937 rng(11);
  auto draw = [&](int max_len) {
    std::string s(std::uniform_int_distribution<int>(0, max_len)(rng), 'a');
    for (auto& c : s) c = static_cast<char>('a' + std::uniform_int_distribution<int>(0, 3)(rng));
    return s;
  };
  size_t capped = 0;
  for (int n = 0; n < 2000; ++n) {
    const std::string a = draw(14), b = draw(14);
    const size_t full = align(split_chars(a), split_chars(b)).errors();
    EXPECT_EQ(edit_distance(split_chars(a), split_chars(b)), full) << a << " / " << b;
    for (size_t limit = 0; limit <= 15; ++limit) {
      const size_t d = edit_distance_at_most(a, b, limit);
      EXPECT_EQ(d, full <= limit ? full : limit + 1) << a << " / " << b << " limit " << limit;
      capped += full > limit;
    }
  }
  EXPECT_GT(capped, 1000u);  // the cap was hit often, not only the exact path
  EXPECT_EQ(edit_distance_at_most(std::string("optimization.max_updat"), std::string("optimization.max_update"), 0), 1u);
  EXPECT_EQ(edit_distance_at_most(std::string(""), std::string("abc"), 5), 3u);
}

}  // namespace
}  // namespace w2v::eval
