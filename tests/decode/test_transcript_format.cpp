// JSON and SRT output of word-timed transcripts (hand-checked cases).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "decode/transcript_format.h"

namespace w2v::decode {
namespace {

WordSpan word(const std::string& w, double start, double end, double conf = 0.9) {
  WordSpan s;
  s.word = w;
  s.start = start;
  s.end = end;
  s.confidence = conf;
  return s;
}

TEST(TranscriptFormat, JsonHasWordsWithTimes) {
  FileTranscript f;
  f.path = "a.wav";
  f.duration = 2.5;
  f.result.words = {word("HELLO", 0.1, 0.42, 0.87654), word("WORLD", 0.6, 1.0)};
  auto j = nlohmann::json::parse(to_json({f}));
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["text"], "HELLO WORLD");
  EXPECT_EQ(j["files"][0]["words"][0]["word"], "HELLO");
  EXPECT_DOUBLE_EQ(j["files"][0]["words"][0]["end"].get<double>(), 0.42);
  EXPECT_DOUBLE_EQ(j["files"][0]["words"][0]["confidence"].get<double>(), 0.877);
  EXPECT_DOUBLE_EQ(j["files"][0]["duration"].get<double>(), 2.5);
}

TEST(TranscriptFormat, SrtCuesSplitOnPausesLengthAndCount) {
  std::vector<WordSpan> w = {word("A", 0.0, 0.5), word("B", 0.6, 1.0), word("C", 2.5, 3.0),  // pause before C
                             word("D", 3.1, 3661.5)};
  SrtOptions opt;
  opt.max_seconds = 10;
  std::string srt = to_srt(w, opt);
  EXPECT_EQ(srt,
            "1\n00:00:00,000 --> 00:00:01,000\nA B\n\n"
            "2\n00:00:02,500 --> 00:00:03,000\nC\n\n"
            "3\n00:00:03,100 --> 01:01:01,500\nD\n\n");
  opt.max_words = 1;
  EXPECT_EQ(to_srt({word("A", 0, 0.2), word("B", 0.2, 0.4)}, opt).substr(0, 34), "1\n00:00:00,000 --> 00:00:00,200\nA\n");
  EXPECT_EQ(to_srt({}), "");
}

}  // namespace
}  // namespace w2v::decode
