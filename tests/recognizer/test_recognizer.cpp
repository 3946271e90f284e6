// The Recognizer library against the CLI and itself: transcribe() gives what `w2v transcribe`
// prints, one Recognizer serves several threads with identical results, windows and emissions
// agree with the model's forward, resampled input gives the 16 kHz frame count, options fail
// early with one clear error.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <filesystem>
#include <random>
#include <thread>

#include "audio/audio.h"
#include "common/run_command.h"
#include "decode/transcript_format.h"
#include "recognizer/recognizer.h"
#include "recognizer/tiny_ctc.h"
#include "util/error.h"

namespace w2v {
namespace {

namespace fs = std::filesystem;

std::vector<float> noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 0.2f);
  std::vector<float> w(n);
  for (auto& x : w) x = g(rng);
  return w;
}

class RecognizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) / "recognizer";
    fs::create_directories(dir_);
    model_ = test::save_tiny_ctc((dir_ / "model.pt").string(), "default");
  }
  RecognizerOptions options(double chunk = 30, double overlap = 1) const {
    RecognizerOptions o;
    o.model = (dir_ / "model.pt").string();
    o.chunk_seconds = chunk;
    o.overlap_seconds = overlap;
    return o;
  }
  static fs::path dir_;
  static model::Wav2VecCtc model_;
};
fs::path RecognizerTest::dir_;
model::Wav2VecCtc RecognizerTest::model_{nullptr};

TEST_F(RecognizerTest, TranscribeEqualsCliAndForward) {
  const auto wave = noise(3 * audio::kSampleRate + 77, 1);
  const std::string wav = (dir_ / "a.wav").string();
  audio::write(wav, wave, audio::kSampleRate, audio::Encoding::kFloat);
  Recognizer rec(options());
  const auto t = rec.transcribe(wave.data(), wave.size(), audio::kSampleRate);
  ASSERT_FALSE(t.words.empty());
  EXPECT_NEAR(t.duration, wave.size() / 16000.0, 1e-9);
  std::string out;
  ASSERT_EQ(test::run_command(std::string(W2V_BINARY) + " transcribe " + (dir_ / "model.pt").string() + " " + wav, out), 0)
      << out;
  EXPECT_EQ(out, t.text + "\n");
  EXPECT_EQ(rec.transcribe_file(wav).text, t.text);

  // One window (30 s) over 3 s: the emissions are the model's forward on the whole signal.
  torch::NoGradGuard no_grad;
  auto x = torch::from_blob(const_cast<float*>(wave.data()), {1, static_cast<int64_t>(wave.size())}).clone();
  auto logits = model_->forward(x).logits.select(1, 0).contiguous();
  const auto e = rec.emissions(wave.data(), wave.size(), audio::kSampleRate);
  ASSERT_EQ(e.frames, logits.size(0));
  ASSERT_EQ(e.vocab, logits.size(1));
  float err = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) err = std::max(err, std::abs(e.data[i] - logits.data_ptr<float>()[i]));
  EXPECT_LE(err, 1e-4f);

  // Tokens: the collapsed path, in time order, each at a frame time inside the audio.
  ASSERT_FALSE(t.tokens.empty());
  for (size_t k = 1; k < t.tokens.size(); ++k) EXPECT_GT(t.tokens[k].time, t.tokens[k - 1].time);
  EXPECT_LT(t.tokens.back().time, t.duration);
  for (const auto& w : t.words) EXPECT_TRUE(w.confidence > 0 && w.confidence <= 1) << w.word;
  ASSERT_EQ(t.nbest.size(), 1u);
  EXPECT_EQ(t.nbest[0].text, t.text);
}

TEST_F(RecognizerTest, ConcurrentCallersGetIdenticalResults) {
  Recognizer rec(options(1, 0.5));  // several windows per input
  std::vector<std::vector<float>> waves;
  for (unsigned i = 0; i < 4; ++i) waves.push_back(noise(static_cast<size_t>(2.5 * audio::kSampleRate) + 1000 * i, 10 + i));
  std::vector<std::string> serial;
  for (const auto& w : waves) serial.push_back(rec.transcribe(w.data(), w.size(), audio::kSampleRate).text);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> parallel(waves.size() * 2);
    std::vector<std::thread> threads;
    for (size_t k = 0; k < parallel.size(); ++k)
      threads.emplace_back([&, k] {
        const auto& w = waves[k % waves.size()];
        parallel[k] = rec.transcribe(w.data(), w.size(), audio::kSampleRate).text;
      });
    for (auto& t : threads) t.join();
    for (size_t k = 0; k < parallel.size(); ++k) EXPECT_EQ(parallel[k], serial[k % waves.size()]) << "caller " << k;
  }
  // Different inputs give different texts, so equal results mean something.
  EXPECT_NE(serial[0], serial[1]);
}

TEST_F(RecognizerTest, ResampledInputHasTheFramesOf16kHz) {
  Recognizer rec(options());
  const auto wave = noise(2 * 48000, 3);
  const auto e = rec.emissions(wave.data(), wave.size(), 48000);
  const auto t = rec.transcribe(wave.data(), wave.size(), 48000);
  EXPECT_EQ(e.frames, (2 * 16000 - 400) / 320 + 1);
  EXPECT_NEAR(t.duration, 2.0, 1e-9);
  EXPECT_THROW(rec.transcribe(wave.data(), wave.size(), 1), Error);
  std::vector<float> bad = {0.f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(rec.transcribe(bad.data(), bad.size(), 16000), Error);
}

TEST_F(RecognizerTest, BadOptionsFailEarly) {
  auto o = options();
  o.device = "cuda";
  EXPECT_THROW(Recognizer{o}, Error);
  o = options();
  o.decoding.decoder = "lexicon";  // needs a lexicon and an LM
  EXPECT_THROW(Recognizer{o}, Error);
  o = options();
  o.model = (dir_ / "missing.pt").string();
  try {
    Recognizer r(o);
    ADD_FAILURE() << "a missing model loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
}

TEST(TranscriptFormat, BackslashEscapeKeepsUtf8AndEscapesStrayBytes) {
  EXPECT_EQ(decode::backslash_escape("caf\xc3\xa9 \xe2\x96\x81x"), "caf\xc3\xa9 \xe2\x96\x81x");
  EXPECT_EQ(decode::backslash_escape("caf\xe9.wav"), "caf\\xe9.wav");
  EXPECT_EQ(decode::backslash_escape("\xc3"), "\\xc3");                  // truncated sequence
  EXPECT_EQ(decode::backslash_escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(decode::backslash_escape("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
}

}  // namespace
}  // namespace w2v
