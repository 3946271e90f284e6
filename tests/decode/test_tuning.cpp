// decode/tuning.h, the search behind `w2v tune`: ranges parse as typed (and bad ones fail with
// the option's name), grid search visits every point once in grid order, coordinate search finds
// a separable optimum with fewer evaluations, and ties go to the smaller weights.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <tuple>

#include "decode/tuning.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

TEST(Tuning, RangesParseAsTyped) {
  EXPECT_EQ(parse_tuning_range("0:4:0.5", "--lm-weight"), (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4}));
  EXPECT_EQ(parse_tuning_range("-3:3:1", "--word-score"), (std::vector<double>{-3, -2, -1, 0, 1, 2, 3}));
  // Steps that do not land on STOP stop before it; float steps give the values as typed.
  EXPECT_EQ(parse_tuning_range("0:1:0.3", "x"), (std::vector<double>{0, 0.3, 0.6, 0.9}));
  const auto tenths = parse_tuning_range("0:1:0.1", "x");
  ASSERT_EQ(tenths.size(), 11u);
  EXPECT_EQ(tenths[3], 0.3);
  EXPECT_EQ(tenths[10], 1.0);
  EXPECT_EQ(parse_tuning_range("2", "x"), (std::vector<double>{2}));
  EXPECT_EQ(parse_tuning_range("1.5,-1,3", "x"), (std::vector<double>{1.5, -1, 3}));
  EXPECT_EQ(parse_tuning_range("1:1:0.5", "x"), (std::vector<double>{1}));
}

TEST(Tuning, BadRangesNameTheOption) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0:1:0", "STEP must be > 0"},        {"0:1:-1", "STEP must be > 0"},   {"2:1:0.5", "START must not exceed STOP"},
      {"a:1:1", "'a' in 'a:1:1' is not a number"}, {"1,,2", "'' in '1,,2' is not a number"},
      {"1:2", "expected START:STOP:STEP"}, {"1,2,1", "repeats the value 1"}, {"nan", "not a number"},
      {"inf", "not a number"},             {"", "not a number"},           {"0:1000000:0.001", "over 1000 values"},
      {"1e400", "not a number"},           {"2x", "not a number"}};
  for (const auto& [text, message] : bad) {
    try {
      parse_tuning_range(text, "--lm-weight");
      ADD_FAILURE() << "'" << text << "' parsed";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("option --lm-weight: ", 0), 0u) << what;
      EXPECT_NE(what.find(message), std::string::npos) << text << ": " << what;
    }
  }
}

// A bowl with its minimum at (1.5, 0.5, 0): errors grow with the distance in each weight.
TuningResult bowl(const TuningPoint& p) {
  TuningResult r;
  r.errors = static_cast<size_t>(std::lround(4 * std::fabs(p.lm_weight - 1.5) + 2 * std::fabs(p.word_score - 0.5) +
                                             3 * std::fabs(p.sil_weight)));
  r.words = 100;
  return r;
}

TEST(Tuning, GridVisitsEveryPointOnceInGridOrder) {
  const TuningRanges ranges{parse_tuning_range("0:3:0.5", "a"), parse_tuning_range("-1:2:0.5", "b"),
                            parse_tuning_range("-1,0,1", "c")};
  std::set<std::tuple<double, double, double>> seen;
  const auto table = tune(ranges, TuningSearch::kGrid, {}, [&](const TuningPoint& p) {
    EXPECT_TRUE(seen.emplace(p.lm_weight, p.word_score, p.sil_weight).second) << "evaluated twice";
    return bowl(p);
  });
  ASSERT_EQ(table.size(), 7u * 7u * 3u);
  // lm_weight outermost, sil_weight innermost.
  EXPECT_EQ(table[1].point.sil_weight, 0);
  EXPECT_EQ(table[3].point.word_score, -0.5);
  EXPECT_EQ(table[21].point.lm_weight, 0.5);
  const auto& best = best_result(table);
  EXPECT_EQ(best.point.lm_weight, 1.5);
  EXPECT_EQ(best.point.word_score, 0.5);
  EXPECT_EQ(best.point.sil_weight, 0);
  for (const auto& r : table) EXPECT_FALSE(ranks_before(r, best));
}

TEST(Tuning, CoordinateSearchFindsTheSeparableOptimumWithFewerDecodes) {
  const TuningRanges ranges{parse_tuning_range("0:3:0.5", "a"), parse_tuning_range("-1:2:0.5", "b"),
                            parse_tuning_range("-1,0,1", "c")};
  std::set<std::tuple<double, double, double>> seen;
  const auto table = tune(ranges, TuningSearch::kCoordinate, {2, -1, 0}, [&](const TuningPoint& p) {
    EXPECT_TRUE(seen.emplace(p.lm_weight, p.word_score, p.sil_weight).second) << "evaluated twice";
    return bowl(p);
  });
  // From (2, -1, 0): the lm_weight line, the word_score line, the sil_weight line, then the
  // lm_weight line again at the new word_score (the rest known), and no move: every point once.
  EXPECT_EQ(table.size(), 7u + 6u + 2u + 6u);
  EXPECT_EQ(table[0].point.lm_weight, 2);
  EXPECT_EQ(table[0].point.word_score, -1);
  const auto& best = best_result(table);
  EXPECT_EQ(best.point.lm_weight, 1.5);
  EXPECT_EQ(best.point.word_score, 0.5);
  EXPECT_EQ(best.point.sil_weight, 0);
  // A start outside the ranges snaps to the nearest value (ties: the smaller).
  const auto snapped = tune(ranges, TuningSearch::kCoordinate, {10, 0.25, 0}, bowl);
  EXPECT_EQ(snapped[0].point.lm_weight, 3);
  EXPECT_EQ(snapped[0].point.word_score, 0);
}

TEST(Tuning, TiesGoToTheSmallerWeightsWhateverTheOrder) {
  auto flat = [](const TuningPoint&) { return TuningResult{{}, 5, 10}; };
  const TuningRanges ranges{{2, 0.5, 1}, {1, -2}, {0.5, -0.5}};
  for (auto search : {TuningSearch::kGrid, TuningSearch::kCoordinate}) {
    const auto& best = best_result(tune(ranges, search, {2, -1, 0}, flat));
    EXPECT_EQ(best.point.lm_weight, 0.5);
    EXPECT_EQ(best.point.word_score, -2);
    EXPECT_EQ(best.point.sil_weight, -0.5);
    EXPECT_DOUBLE_EQ(best.wer(), 50.0);
  }
  // Fewer errors beat smaller weights.
  EXPECT_TRUE(ranks_before({{3, 0, 0}, 1, 10}, {{0, 0, 0}, 2, 10}));
  EXPECT_FALSE(ranks_before({{0, 0, 0}, 2, 10}, {{3, 0, 0}, 1, 10}));
  EXPECT_THROW(best_result({}), Error);
  EXPECT_THROW(tune({{1}, {}, {0}}, TuningSearch::kGrid, {}, flat), Error);
}

}  // namespace
}  // namespace w2v::decode
