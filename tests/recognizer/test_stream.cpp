// Stream against whole-signal transcribe with the same windows: pushed in any block sizes, with
// no pause long enough to end a segment, the one final equals transcribe(); each partial equals
// transcribe() of the audio pushed so far; pauses end segments whose words stay in time order
// and cover what transcribe found; memory for the finished part is dropped.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "audio/audio.h"
#include "recognizer/recognizer.h"
#include "recognizer/tiny_ctc.h"
#include "util/error.h"

namespace w2v {
namespace {

namespace fs = std::filesystem;

class StreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path dir = fs::path(::testing::TempDir()) / "stream";
    fs::create_directories(dir);
    model_path_ = (dir / "model.pt").string();
    test::save_tiny_ctc(model_path_, "default");
  }
  static std::vector<float> noise(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.f, 0.2f);
    std::vector<float> w(n);
    for (auto& x : w) x = g(rng);
    return w;
  }
  static RecognizerOptions options(const StreamOptions& s) {
    RecognizerOptions o;
    o.model = model_path_;
    o.chunk_seconds = s.chunk_seconds;
    o.overlap_seconds = s.overlap_seconds;
    return o;
  }
  static std::string model_path_;
};
std::string StreamTest::model_path_;

void expect_same_words(const Transcript& a, const Transcript& b) {
  EXPECT_EQ(a.text, b.text);
  ASSERT_EQ(a.words.size(), b.words.size());
  for (size_t k = 0; k < a.words.size(); ++k) {
    EXPECT_NEAR(a.words[k].start, b.words[k].start, 1e-9) << k;
    EXPECT_NEAR(a.words[k].end, b.words[k].end, 1e-9) << k;
    EXPECT_NEAR(a.words[k].confidence, b.words[k].confidence, 1e-6) << k;
  }
}

TEST_F(StreamTest, FinalAndPartialsEqualTranscribeOfTheSameAudio) {
  StreamOptions so;
  so.chunk_seconds = 0.5;
  so.overlap_seconds = 0.25;
  so.pause_seconds = 1000;  // no segment ends before the audio does
  so.partial_seconds = 0.3;
  const Recognizer rec(options(so));
  const auto wave = noise(static_cast<size_t>(3.3 * audio::kSampleRate), 21);
  const auto whole = rec.transcribe(wave.data(), wave.size(), audio::kSampleRate);
  // The tiny random model hears two words in this noise: enough for partials and the final to differ.
  ASSERT_GE(whole.words.size(), 2u);

  auto stream = rec.stream(so);
  std::mt19937 rng(4);
  size_t at = 0;
  int partials = 0;
  while (at < wave.size()) {
    const size_t n = std::min(wave.size() - at, static_cast<size_t>(rng() % 3000 + 1));
    const auto u = stream->push(wave.data() + at, n, audio::kSampleRate);
    at += n;
    EXPECT_TRUE(u.finals.empty());
    if (!u.partial.words.empty() || !u.partial.text.empty()) {
      // The partial is the transcript of everything pushed so far, windows and all.
      const auto so_far = rec.transcribe(wave.data(), at, audio::kSampleRate);
      EXPECT_EQ(u.partial.text, so_far.text) << "after " << at << " samples";
      ++partials;
    }
  }
  EXPECT_GE(partials, 5);
  EXPECT_NEAR(stream->seconds(), 3.3, 1e-3);
  const auto end = stream->finish();
  ASSERT_EQ(end.finals.size(), 1u);
  expect_same_words(end.finals[0], whole);
}

// The random model hears letters in almost every frame of noise, so it is given a blank bias at
// the median of (best other score - blank score) over this audio's frames: about half the frames
// become blank, and runs of two (a pause here) end segments.
TEST_F(StreamTest, PausesEndSegmentsInTimeOrder) {
  StreamOptions so;
  so.chunk_seconds = 0.5;
  so.overlap_seconds = 0.25;
  so.pause_seconds = 0.04;  // two blank or word-boundary frames
  const auto wave = noise(6 * audio::kSampleRate, 22);
  std::vector<float> margins;
  {
    const auto e = Recognizer(options(so)).emissions(wave.data(), wave.size(), audio::kSampleRate);
    for (int t = 0; t < e.frames; ++t) {
      const float* row = e.view().row(t);
      margins.push_back(*std::max_element(row + 1, row + e.vocab) - row[0]);
    }
  }
  std::nth_element(margins.begin(), margins.begin() + margins.size() / 2, margins.end());
  RecognizerOptions ro = options(so);
  ro.model = (fs::path(::testing::TempDir()) / "stream" / "paused.pt").string();
  test::save_tiny_ctc(ro.model, "default", false, margins[margins.size() / 2]);
  const Recognizer rec(ro);
  const auto whole = rec.transcribe(wave.data(), wave.size(), audio::kSampleRate);
  auto stream = rec.stream(so);
  std::vector<Transcript> finals;
  for (size_t at = 0; at < wave.size(); at += 1600) {
    auto u = stream->push(wave.data() + at, std::min<size_t>(1600, wave.size() - at), audio::kSampleRate);
    finals.insert(finals.end(), u.finals.begin(), u.finals.end());
  }
  auto u = stream->finish();
  finals.insert(finals.end(), u.finals.begin(), u.finals.end());
  ASSERT_GE(finals.size(), 2u) << "no pause found: the test would not check segmentation";
  double prev = 0;
  size_t letters = 0, whole_letters = 0;
  for (const auto& f : finals) {
    ASSERT_FALSE(f.words.empty());
    for (const auto& w : f.words) {
      EXPECT_GE(w.start, prev - 1e-9);
      EXPECT_LE(w.end, 6.0 + 1e-9);
      prev = w.end;
      letters += w.word.size();
    }
  }
  // Segments only split words at pauses: the same letters as the whole transcript.
  for (const auto& w : whole.words) whole_letters += w.word.size();
  EXPECT_EQ(letters, whole_letters);
}

TEST_F(StreamTest, OtherRatesAreResampledAndRatesMayNotChange) {
  StreamOptions so;
  so.chunk_seconds = 0.5;
  so.overlap_seconds = 0.25;
  so.pause_seconds = 1000;
  const Recognizer rec(options(so));
  const auto wave = noise(2 * 48000, 23);
  auto stream = rec.stream(so);
  for (size_t at = 0; at < wave.size(); at += 4800) stream->push(wave.data() + at, 4800, 48000);
  stream->finish();
  EXPECT_NEAR(stream->seconds(), 2.0, 1e-3);
  auto other = rec.stream(so);
  other->push(wave.data(), 100, 48000);
  EXPECT_THROW(other->push(wave.data(), 100, 16000), Error);
}

}  // namespace
}  // namespace w2v
