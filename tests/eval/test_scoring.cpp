// WER/CER totals, confusion counts, report and transcript pairing (hand-computed cases).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "eval/scoring.h"
#include "eval/transcripts.h"
#include "util/error.h"

namespace w2v::eval {
namespace {

TEST(Scoring, WordTotals) {
  Scorer s;
  s.add("a", "the cat sat", "the bat sat");    // 1 S
  s.add("b", "hello world", "hello big world");  // 1 I
  s.add("c", "a b c d", "a b c d");            // 0
  EXPECT_EQ(s.ref_units(), 9u);
  EXPECT_EQ(s.errors(), 2u);
  EXPECT_EQ(s.substitutions(), 1u);
  EXPECT_EQ(s.insertions(), 1u);
  EXPECT_EQ(s.sentence_errors(), 2u);
  EXPECT_NEAR(s.error_rate(), 200.0 / 9.0, 1e-9);
  auto conf = s.confusions(5);
  ASSERT_EQ(conf.size(), 1u);
  EXPECT_EQ(conf[0].first, "cat -> bat");
  EXPECT_EQ(s.inserted(5).at(0).first, "big");
  std::string report = s.report();
  EXPECT_NE(report.find("REF:  the cat sat"), std::string::npos) << report;
  EXPECT_NE(report.find("HYP:  the bat sat"), std::string::npos) << report;
  EXPECT_NE(report.find("REF:  hello ***"), std::string::npos) << report;
  EXPECT_NE(report.find("WER: 22.22 % (2 / 9)"), std::string::npos) << report;
}

TEST(Scoring, CharactersCountSpacesAndCodePoints) {
  Scorer s(true);
  s.add("a", "héllo  wörld", "hello world");  // é->e, ö->o; double space normalised
  EXPECT_EQ(s.ref_units(), 11u);
  EXPECT_EQ(s.substitutions(), 2u);
  EXPECT_EQ(s.errors(), 2u);
}

TEST(Scoring, EmptyReference) {
  Scorer s;
  s.add("a", "", "");
  EXPECT_EQ(s.error_rate(), 0.0);
  s.add("b", "", "oops");
  EXPECT_TRUE(std::isinf(s.error_rate()));
}

std::string write(const std::string& name, const std::string& content) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(Transcripts, PairsBySuffixIdInReferenceOrder) {
  auto ref = write("ref_suffix.txt", "HELLO WORLD (None-0)\nGOOD DAY (None-1)\n");
  auto hyp = write("hyp_suffix.txt", "GOOD DAY (None-1)\nHELLO WORD (None-0)\n");
  auto pairs = pair_transcripts(ref, hyp, TranscriptLayout::kAuto);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].id, "None-0");
  EXPECT_EQ(pairs[0].ref, "HELLO WORLD");
  EXPECT_EQ(pairs[0].hyp, "HELLO WORD");
  EXPECT_EQ(pairs[1].hyp, "GOOD DAY");
}

TEST(Transcripts, PairsByLineAndFirstColumn) {
  auto ref = write("ref_line.txt", "a b\n\nc\n");
  auto hyp = write("hyp_line.txt", "a\nx\nc\n");
  auto pairs = pair_transcripts(ref, hyp, TranscriptLayout::kAuto);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1].ref, "");
  EXPECT_EQ(pairs[1].hyp, "x");
  auto kref = write("ref_kaldi.txt", "u1 HELLO THERE\nu2 HI\n");
  auto khyp = write("hyp_kaldi.txt", "u2 HI\nu1 HELLO\n");
  auto k = pair_transcripts(kref, khyp, TranscriptLayout::kFirstColumn);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].id, "u1");
  EXPECT_EQ(k[0].hyp, "HELLO");
}

TEST(Transcripts, MismatchesAreErrorsNamingFileAndLine) {
  auto ref = write("ref_bad.txt", "A (1)\nB (2)\n");
  auto hyp = write("hyp_bad.txt", "A (1)\nC (3)\n");
  try {
    pair_transcripts(ref, hyp, TranscriptLayout::kAuto);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(ref + ":2: utterance id '2' has no hypothesis"), std::string::npos) << e.what();
  }
  auto shorter = write("hyp_short.txt", "A\n");
  auto longer = write("ref_long.txt", "A\nB\n");
  try {
    pair_transcripts(longer, shorter, TranscriptLayout::kLine);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(shorter + ":2:"), std::string::npos) << e.what();
  }
  auto bad_suffix = write("hyp_nosuffix.txt", "A (1)\nno id here\n");
  EXPECT_THROW(pair_transcripts(ref, bad_suffix, TranscriptLayout::kSuffixId), Error);
}

}  // namespace
}  // namespace w2v::eval
