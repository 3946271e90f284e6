// Spans from a path (letters, spoken words, transcript words) and the output formats: JSON,
// SRT/VTT per word and per line, Kaldi CTM, Praat TextGrid (tiers cover the audio without gaps).
#include <sstream>

#include "align/formats.h"
#include "align_test_util.h"
#include "util/error.h"

namespace w2v::align {
namespace {

class Formats : public ::testing::Test {
 protected:
  void SetUp() override {
    symbols_ = test::letter_symbols();
    const AlignText text = normalize(kText, symbols_, "t.txt");
    std::mt19937 rng(2);
    std::vector<int> truth;
    m_ = test::peaky(text.labels(), static_cast<int>(symbols_.size()), 0, rng, 6, 8.f, &truth);
    file_.audio = "dir/utt1.wav";
    file_.transcript = "t.txt";
    file_.duration = m_.frames * 0.02 + 0.013;
    file_.alignment = align(m_.view(), symbols_, kText, "t.txt", "dir/utt1.wav");
    truth_ = truth;
  }
  static constexpr const char* kText = "Hello, world\nGood \"day\" 42";
  std::vector<std::string> symbols_;
  test::Matrix m_;
  FileAlignment file_;
  std::vector<int> truth_;
};

TEST_F(Formats, SpansFollowThePath) {
  const Alignment& a = file_.alignment;
  ASSERT_EQ(a.words.size(), 5u);
  ASSERT_EQ(a.spoken.size(), 6u);  // ... FORTY TWO
  // With strong peaks the alignment is the path the emissions were made from: the first letter
  // starts at the first frame of state 1, the last ends after the last frame of state 2L-1.
  int first = 0, last = 0;
  const int last_label = 2 * static_cast<int>(normalize(kText, symbols_, "t").labels().size()) - 1;
  while (truth_[first] != 1) ++first;
  for (int t = 0; t < static_cast<int>(truth_.size()); ++t)
    if (truth_[t] == last_label) last = t;
  EXPECT_EQ(a.words.front().start_frame, first);
  EXPECT_EQ(a.words.back().end_frame, last + 1);
  EXPECT_DOUBLE_EQ(a.words.front().start, first * 0.02);
  EXPECT_EQ(a.words[4].word, "42");
  EXPECT_EQ(a.words[4].spoken_count, 2);
  EXPECT_EQ(a.spoken[4].word, "FORTY");
  EXPECT_EQ(a.words[4].start_frame, a.spoken[4].start_frame);
  EXPECT_EQ(a.words[4].end_frame, a.spoken[5].end_frame);
  for (const auto& s : a.spoken) {
    EXPECT_GT(s.score, 0.5);
    EXPECT_LE(s.score, 1.0);
    for (size_t k = 1; k < s.letters.size(); ++k) EXPECT_GE(s.letters[k].start_frame, s.letters[k - 1].end_frame);
  }
  EXPECT_EQ(a.spoken[0].letters[2].letter, "L");
  EXPECT_LT(a.spoken[0].letters[2].end_frame, a.spoken[0].letters[3].start_frame);  // a blank between the Ls
}

TEST_F(Formats, JsonSrtVttCtm) {
  const auto j = nlohmann::json::parse(to_json({file_}));
  const auto& f = j["files"][0];
  EXPECT_EQ(f["audio"], "dir/utt1.wav");
  EXPECT_EQ(f["words"][1]["word"], "world");
  EXPECT_EQ(f["words"][2]["line"], 2);
  EXPECT_EQ(f["words"][4]["spoken"][1]["word"], "TWO");
  EXPECT_EQ(f["words"][0]["spoken"][0]["letters"].size(), 5u);
  EXPECT_DOUBLE_EQ(f["words"][0]["start"].get<double>(), std::round(file_.alignment.words[0].start * 1000) / 1000);

  const std::string words = to_srt(file_.alignment, Cue::kWord), lines = to_srt(file_.alignment, Cue::kLine);
  EXPECT_NE(words.find("5\n"), std::string::npos);
  EXPECT_EQ(words.find("6\n"), std::string::npos);
  EXPECT_NE(lines.find("1\n00:00:"), std::string::npos);
  EXPECT_NE(lines.find("\nHello, world\n\n2\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find("\nGood \"day\" 42\n\n"), std::string::npos) << lines;
  const std::string vtt = to_vtt(file_.alignment, Cue::kLine);
  EXPECT_EQ(vtt.rfind("WEBVTT\n\n00:00:", 0), 0u) << vtt;
  EXPECT_NE(vtt.find('.'), std::string::npos);

  std::istringstream ctm(to_ctm({file_}));
  std::string utt, word;
  int channel, n = 0;
  double start, duration, score;
  while (ctm >> utt >> channel >> start >> duration >> word >> score) {
    EXPECT_EQ(utt, "utt1");
    EXPECT_EQ(channel, 1);
    EXPECT_NEAR(start, file_.alignment.spoken[n].start, 0.005);
    EXPECT_NEAR(start + duration, file_.alignment.spoken[n].end, 0.011);
    EXPECT_EQ(word, file_.alignment.spoken[n].word);
    ++n;
  }
  EXPECT_EQ(n, 6);
}

TEST_F(Formats, TextGridTiersCoverTheAudio) {
  const std::string tg = to_textgrid(file_);
  EXPECT_EQ(tg.rfind("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n", 0), 0u);
  // Walk each tier's intervals: contiguous from 0 to the duration, texts in order.
  std::istringstream in(tg);
  std::string line, name;
  double at = -1, xmax_file = 0;
  std::vector<std::string> texts;
  std::vector<std::vector<std::string>> tiers;
  auto value = [](const std::string& l) { return l.substr(l.find('=') + 2); };
  while (std::getline(in, line)) {
    if (line.rfind("xmax = ", 0) == 0) xmax_file = std::stod(value(line));
    if (line.find("intervals: size") != std::string::npos) {
      if (at >= 0) {
        EXPECT_NEAR(at, xmax_file, 1e-9);
      }
      at = 0;
      tiers.emplace_back();
    }
    if (line.find("            xmin = ") == 0) {
      EXPECT_NEAR(std::stod(value(line)), at, 1e-9);
    }
    if (line.find("            xmax = ") == 0) at = std::stod(value(line));
    if (line.find("            text = ") == 0) {
      const std::string t = value(line);
      if (t != "\"\"") tiers.back().push_back(t);
    }
  }
  EXPECT_NEAR(at, xmax_file, 1e-9);
  EXPECT_NEAR(xmax_file, file_.duration, 1e-3);
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0], (std::vector<std::string>{"\"Hello,\"", "\"world\"", "\"Good\"", "\"\"\"day\"\"\"", "\"42\""}));
  EXPECT_EQ(tiers[1].size(), 5u + 5 + 4 + 3 + 5 + 3);
}

TEST_F(Formats, TranscriptThatCannotFitNamesTheFiles) {
  std::string longer;
  for (int i = 0; i < 40; ++i) longer += "hello world ";
  try {
    align(m_.view(), symbols_, longer, "long.txt", "dir/utt1.wav");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("long.txt: does not fit dir/utt1.wav: ", 0), 0u) << m;
  }
}

}  // namespace
}  // namespace w2v::align
