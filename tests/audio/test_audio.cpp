// Audio reader vs torchaudio (the oracle reads what fairseq's soundfile path reads), plus the
// error contract: every bad file is one w2v::Error naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "audio/audio.h"
#include "audio/helpers.h"
#include "util/error.h"

namespace w2v::audio {
namespace {

using test::must_run;
using test::TempDir;

// Error thrown by f must mention every string in parts.
template <typename F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const std::string& p : parts) EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' not in: " << what;
  }
}

// Runs the oracle once on many files (one Python start-up) and returns their samples.
std::vector<std::vector<float>> oracle_read(const std::vector<std::string>& paths, const TempDir& dir,
                                            bool normalize = false) {
  std::string command = test::oracle("data_audio.py") + (normalize ? " --normalize" : "");
  for (size_t i = 0; i < paths.size(); ++i) command += " " + paths[i] + " " + dir / ("oracle" + std::to_string(i) + ".f32");
  must_run(command);
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < paths.size(); ++i) out.push_back(test::read_f32(dir / ("oracle" + std::to_string(i) + ".f32")));
  return out;
}

// One file per encoding/container that fairseq users feed in, made by sox (an independent
// writer): two different tones per channel so that channel averaging is visible.
struct Case {
  std::string name, sox_args;
  int channels;
};
const std::vector<Case> kCases = {
    {"u8.wav", "-b 8 -e unsigned-integer", 1}, {"s16.wav", "-b 16", 2},      {"s24.wav", "-b 24", 1},
    {"s32.wav", "-b 32", 2},                   {"f32.wav", "-b 32 -e floating-point", 1},
    {"s16.flac", "-b 16", 2},                  {"s24.flac", "-b 24", 1},   {"v.ogg", "", 2},
};

std::string make(const TempDir& dir, const Case& c, int rate = 16000, double seconds = 0.7) {
  const std::string path = dir / c.name;
  must_run("sox -n -r " + std::to_string(rate) + " " + c.sox_args + " -c " + std::to_string(c.channels) + " " + path +
           " synth " + std::to_string(seconds) + " sine 440 sine 1234 gain -3");
  return path;
}

TEST(Audio, MatchesTorchaudioForEveryEncoding) {
  TempDir dir("w2v_audio");
  std::vector<std::string> paths;
  for (const Case& c : kCases) paths.push_back(make(dir, c));
  const std::vector<std::vector<float>> refs = oracle_read(paths, dir);
  for (size_t k = 0; k < kCases.size(); ++k) {
    SCOPED_TRACE(kCases[k].name);
    const std::vector<float> ours = read(paths[k]);
    ASSERT_EQ(ours.size(), refs[k].size());
    // PCM decodes bit-exactly; Vorbis decoders differ in float rounding.
    EXPECT_LE(test::max_abs_diff(ours, refs[k]), kCases[k].name == "v.ogg" ? 1e-4 : 1e-6);
    const Info i = info(paths[k]);
    EXPECT_EQ(i.sample_rate, 16000);
    EXPECT_EQ(i.channels, kCases[k].channels);
    EXPECT_EQ(i.frames, static_cast<int64_t>(refs[k].size()));
  }
}

TEST(Audio, NormalizeMatchesLayerNorm) {
  TempDir dir("w2v_audio");
  const std::string path = make(dir, kCases[1]);
  const std::vector<float> ref = oracle_read({path}, dir, true)[0];
  ReadOptions o;
  o.normalize = true;
  const std::vector<float> ours = read(path, o);
  ASSERT_EQ(ours.size(), ref.size());
  EXPECT_LE(test::max_abs_diff(ours, ref), 1e-4);
}

TEST(Audio, WrongRateIsAnErrorUnlessResampling) {
  TempDir dir("w2v_audio");
  const std::string path = make(dir, {"hi.flac", "-b 16", 1}, 44100, 1.0);
  expect_error([&] { read(path); }, {path, "44100", "16000"});
  ReadOptions o;
  o.resample = true;
  const std::vector<float> y = read(path, o);
  ASSERT_EQ(y.size(), 16000u);
  // The same synth rendered directly at 16 kHz: band-limited resampling must reproduce it
  // away from the ends, up to the 16-bit quantisation of the source.
  double worst = 0;
  const std::string direct = make(dir, {"direct.wav", "-b 32 -e floating-point", 1}, 16000, 1.0);
  const std::vector<float> ref = read(direct);
  for (size_t n = 500; n + 500 < y.size(); ++n) worst = std::max(worst, std::abs(double(y[n]) - ref[n]));
  EXPECT_LT(worst, 2e-3);
}

TEST(Audio, RegionEqualsSliceOfWholeFile) {
  TempDir dir("w2v_audio");
  for (const Case& c : {kCases[1], kCases[5]}) {
    const std::string path = make(dir, c, 16000, 2.0);
    const std::vector<float> all = read(path);
    const std::vector<float> region = read_region(path, 12345, 4000);
    ASSERT_EQ(region.size(), 4000u);
    for (size_t i = 0; i < region.size(); ++i) ASSERT_EQ(region[i], all[12345 + i]) << c.name << " at " << i;
    EXPECT_EQ(read_region(path, 31000, 4000).size(), 1000u);  // cut at the end
    EXPECT_TRUE(read_region(path, 32000, 10).empty());
  }
}

TEST(Audio, WriteRoundTrip) {
  TempDir dir("w2v_audio");
  std::vector<float> x(3000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(0.01f * i);
  struct W {
    Encoding e;
    const char* name;
    double tol;
  };
  const std::vector<W> cases = {W{Encoding::kPcm16, "a.wav", 1.0 / 32768}, W{Encoding::kPcm24, "b.wav", 1e-6},
                                W{Encoding::kFloat, "c.wav", 0}, W{Encoding::kFlac16, "d.flac", 1.0 / 32768},
                                W{Encoding::kOggVorbis, "e.ogg", 0.05}};
  std::vector<std::string> paths;
  for (const W& w : cases) {
    write(dir / w.name, x, 16000, w.e);
    paths.push_back(dir / w.name);
    const std::vector<float> y = read(dir / w.name);
    ASSERT_EQ(y.size(), x.size()) << w.name;
    EXPECT_LE(test::max_abs_diff(x, y), w.tol) << w.name;
  }
  // Files we write are readable by the reference tools too.
  const std::vector<std::vector<float>> refs = oracle_read(paths, dir);
  for (size_t k = 0; k < cases.size(); ++k) EXPECT_EQ(refs[k].size(), x.size()) << cases[k].name;
}

TEST(Audio, BadInputIsOneLineErrorNamingTheFile) {
  TempDir dir("w2v_audio");
  const std::string missing = dir / "missing.wav";
  expect_error([&] { read(missing); }, {missing});
  expect_error([&] { info(missing); }, {missing});

  const std::string text = dir / "text.wav";
  std::ofstream(text) << "this is not audio\n";
  expect_error([&] { read(text); }, {text});

  const std::string wav = make(dir, kCases[1]), flac = make(dir, kCases[5]);
  const std::string cut_wav = dir / "cut.wav", cut_flac = dir / "cut.flac";
  must_run("head -c 20000 " + wav + " > " + cut_wav);
  must_run("head -c 9000 " + flac + " > " + cut_flac);
  expect_error([&] { read(cut_wav); }, {cut_wav, "truncated"});
  expect_error([&] { read(cut_flac); }, {cut_flac});

  const std::string empty = dir / "empty.wav";
  write(empty, {}, 16000);
  expect_error([&] { read(empty); }, {empty, "zero samples"});

  const std::string nan = dir / "nan.wav";
  write(nan, {0.1f, std::nanf(""), 0.2f}, 16000, Encoding::kFloat);
  expect_error([&] { read(nan); }, {nan, "NaN", "frame 1"});
}

// Overwrites the sample rate in a canonical WAV header (fmt chunk first: rate at byte 24,
// byte rate at 28), as a corrupt or hostile file would have it.
void patch_wav_rate(const std::string& path, uint32_t rate, int bytes_per_frame) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const uint32_t byte_rate = rate * static_cast<uint32_t>(bytes_per_frame);
  f.seekp(24);
  f.write(reinterpret_cast<const char*>(&rate), 4);
  f.write(reinterpret_cast<const char*>(&byte_rate), 4);
}

// Regression: a header rate of 1 Hz resampled 16000-fold (transcribe ran for 15 minutes) and
// 2^31-1 Hz crashed soxr; both are outside the documented range and rejected up front.
TEST(Audio, SampleRateOutsideSupportedRangeIsAnError) {
  TempDir dir("w2v_audio");
  ReadOptions any;
  any.resample = true;
  for (uint32_t rate : {1u, 999u, 768001u, 2147483647u}) {
    const std::string path = dir / ("rate" + std::to_string(rate) + ".wav");
    write(path, std::vector<float>(4000, 0.1f), 16000);
    patch_wav_rate(path, rate, 2);
    expect_error([&] { read(path, any); }, {path, "unsupported sample rate " + std::to_string(rate), "1000 to 768000"});
    expect_error([&] { info(path); }, {path, "unsupported sample rate"});
    expect_error([&] { read_region(path, 0, 100, any); }, {path, "unsupported sample rate"});
  }
  // The ends of the range are read.
  const std::string low = dir / "low.wav";
  write(low, std::vector<float>(100, 0.1f), kMinSampleRate);
  EXPECT_EQ(read(low, any).size(), 1600u);
  EXPECT_THROW(resample({0.f, 1.f}, 1, 16000), Error);
}

// Regression: one sample at 48 kHz resamples to round(1/3) = 0 samples; soxr was handed an
// empty output buffer and `manifest --verify` crashed.
TEST(Audio, FileThatResamplesToNothingIsAnError) {
  TempDir dir("w2v_audio");
  const std::string path = dir / "one.wav";
  write(path, {0.5f}, 48000);
  ReadOptions any;
  any.resample = true;
  expect_error([&] { read(path, any); }, {path, "too short", "48000 Hz"});
  EXPECT_TRUE(read_region(path, 0, 10, any).empty());
  EXPECT_TRUE(resample({0.5f}, 48000, 16000).empty());
}

// Regression: float samples of 1e38 were accepted and became NaN features (exit 0).
TEST(Audio, NonFiniteOrAbsurdSamplesAreAnError) {
  TempDir dir("w2v_audio");
  const std::string inf = dir / "inf.wav", big = dir / "big.wav", loud = dir / "loud.wav";
  write(inf, {0.1f, 0.2f, std::numeric_limits<float>::infinity()}, 16000, Encoding::kFloat);
  expect_error([&] { read(inf); }, {inf, "non-finite", "frame 2"});
  write(big, {0.1f, 1e38f, 0.2f}, 16000, Encoding::kFloat);
  expect_error([&] { read(big); }, {big, "absurd sample", "frame 1"});
  // Stereo: the check applies to the averaged sample, and the frame index is per channel.
  write(big, {0.1f, 0.1f, -1e38f, -1e38f}, 16000, Encoding::kFloat, 2);
  expect_error([&] { read(big); }, {big, "absurd sample", "frame 1"});
  // Over full scale but plausible (float files may exceed 1 a little): read as is.
  write(loud, {0.5f, 3.0f, -kMaxAbsSample}, 16000, Encoding::kFloat);
  EXPECT_EQ(read(loud), (std::vector<float>{0.5f, 3.0f, -kMaxAbsSample}));
}

// A FLAC header may claim any frame count; the reader must not allocate it before decoding.
TEST(Audio, HeaderFrameCountDoesNotDriveAllocation) {
  TempDir dir("w2v_audio");
  const std::string path = make(dir, {"s.flac", "-b 16", 1}, 16000, 0.5);
  // STREAMINFO: "fLaC", block header (4), then 18 bytes; total samples = low 36 bits of bytes
  // 13..17 of STREAMINFO. Claim 2^36-1 samples (~50 days).
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(8 + 13);
  char b = 0;
  f.read(&b, 1);
  const char patched[5] = {static_cast<char>((b & 0xF0) | 0x0F), '\xff', '\xff', '\xff', '\xff'};
  f.seekp(8 + 13);
  f.write(patched, 5);
  f.close();
  EXPECT_GT(info(path).frames, int64_t{1} << 35);
  expect_error([&] { read(path); }, {path, "truncated"});
}

}  // namespace
}  // namespace w2v::audio
