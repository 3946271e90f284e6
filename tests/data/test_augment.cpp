// Training-time augmentation (data/augment.h): each piece measured on synthetic signals (SNR,
// length, band, energy), determinism per seed, and "off" leaving samples bit for bit unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "data/augment.h"

namespace w2v::data {
namespace {

constexpr double kRate = 16000;
constexpr double kPi = 3.14159265358979323846;

// A speech-like test signal: two harmonics-rich tones with a syllable envelope, plus a quiet
// silence at both ends.
std::vector<float> test_signal(size_t n = 24000) {
  std::vector<float> x(n, 0.f);
  for (size_t i = n / 10; i < n - n / 10; ++i) {
    const double t = static_cast<double>(i) / kRate;
    const double envelope = 0.5 + 0.5 * std::sin(2 * kPi * 4 * t);
    double v = 0;
    for (int h = 1; h <= 20; ++h) v += std::sin(2 * kPi * 150 * h * t) / h;
    x[i] = static_cast<float>(0.2 * envelope * v);
  }
  return x;
}

double power(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return s / static_cast<double>(x.size());
}

// Energy of x at frequencies in [lo_hz, hi_hz), summed over 0.1 s Hann windows by a plain DFT
// (bins of 10 Hz), independent of the code under test. (Hann: a rectangular window would leak
// the passband's energy into the stopband bins.)
double band_energy(const std::vector<float>& x, double lo_hz, double hi_hz) {
  const size_t n = 1600;
  std::vector<double> c(n), s(n), hann(n);
  for (size_t i = 0; i < n; ++i) {
    c[i] = std::cos(2 * kPi * static_cast<double>(i) / n);
    s[i] = std::sin(2 * kPi * static_cast<double>(i) / n);
    hann[i] = 0.5 - 0.5 * c[i];
  }
  const size_t first = static_cast<size_t>(std::lround(lo_hz * n / kRate)),
               end = std::min(static_cast<size_t>(std::lround(hi_hz * n / kRate)), n / 2 + 1);
  double e = 0;
  for (size_t start = 0; start + n <= x.size(); start += n)
    for (size_t k = first; k < end; ++k) {
      double re = 0, im = 0;
      for (size_t i = 0; i < n; ++i) {
        re += hann[i] * x[start + i] * c[(k * i) % n];
        im -= hann[i] * x[start + i] * s[(k * i) % n];
      }
      e += re * re + im * im;
    }
  return e;
}

AugmentOptions everything() {
  AugmentOptions o;
  o.speed = {0.9, 1.0, 1.1};
  o.noise_prob = o.reverb_prob = o.band_prob = o.telephone_prob = 1;
  return o;
}

TEST(Augment, OffByDefaultLeavesSamplesBitForBit) {
  const AugmentOptions off;
  EXPECT_FALSE(off.enabled());
  AugmentOptions unit_speed;
  unit_speed.speed = {1.0};
  EXPECT_FALSE(unit_speed.enabled());
  const std::vector<float> x = test_signal();
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const AugmentDraw d = draw_augment(off, seed);
    EXPECT_EQ(d.speed, 1);
    EXPECT_FALSE(d.noise || d.reverb || d.band || d.telephone);
    EXPECT_EQ(apply_augment(x, d), x);
  }
  for (const auto& on : {[] { AugmentOptions o; o.noise_prob = 0.5; return o; }(),
                         [] { AugmentOptions o; o.speed = {0.9, 1.1}; return o; }()})
    EXPECT_TRUE(on.enabled());
}

TEST(Augment, DeterministicPerSeedAndDifferentAcrossSeeds) {
  const std::vector<float> x = test_signal();
  const AugmentOptions o = everything();
  std::set<std::vector<float>> outputs;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const std::vector<float> a = apply_augment(x, draw_augment(o, seed));
    EXPECT_EQ(apply_augment(x, draw_augment(o, seed)), a) << "seed " << seed;
    outputs.insert(a);
  }
  EXPECT_EQ(outputs.size(), 6u);
  // Each piece on its own, too.
  for (bool pink : {false, true}) {
    std::vector<float> a = x, b = x, c = x;
    add_noise(a, 20, pink, 7);
    add_noise(b, 20, pink, 7);
    add_noise(c, 20, pink, 8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
  std::vector<float> r1 = x, r2 = x, r3 = x;
  reverberate(r1, 0.5, 5, 3);
  reverberate(r2, 0.5, 5, 3);
  reverberate(r3, 0.5, 5, 4);
  EXPECT_EQ(r1, r2);
  EXPECT_NE(r1, r3);
}

TEST(Augment, DrawsFollowTheProbabilitiesAndRanges) {
  AugmentOptions o;
  o.speed = {0.9, 1.0, 1.1};
  o.noise_prob = 0.3;
  o.noise_snr = {5, 15};
  o.reverb_prob = 0.5;
  o.reverb_rt60 = {0.3, 0.6};
  int noise = 0, reverb = 0, pink = 0;
  std::set<double> speeds;
  const int n = 2000;
  for (int s = 0; s < n; ++s) {
    const AugmentDraw d = draw_augment(o, static_cast<uint64_t>(s));
    speeds.insert(d.speed);
    noise += d.noise;
    pink += d.noise && d.pink;
    reverb += d.reverb;
    EXPECT_FALSE(d.band || d.telephone);
    ASSERT_GE(d.snr_db, 5);
    ASSERT_LE(d.snr_db, 15);
    ASSERT_GE(d.rt60, 0.3);
    ASSERT_LE(d.rt60, 0.6);
  }
  EXPECT_EQ(speeds, (std::set<double>{0.9, 1.0, 1.1}));
  EXPECT_NEAR(noise / double(n), 0.3, 0.04);
  EXPECT_NEAR(reverb / double(n), 0.5, 0.04);
  EXPECT_NEAR(pink / double(noise), 0.5, 0.06);
  // Raising one probability leaves the other draws as they were.
  AugmentOptions more = o;
  more.telephone_prob = 1;
  for (uint64_t s = 0; s < 50; ++s) {
    const AugmentDraw a = draw_augment(o, s), b = draw_augment(more, s);
    EXPECT_EQ(a.speed, b.speed);
    EXPECT_EQ(a.noise, b.noise);
    EXPECT_EQ(a.snr_db, b.snr_db);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_TRUE(b.telephone);
  }
}

TEST(Augment, NoiseIsAddedAtTheDrawnSnr) {
  const std::vector<float> x = test_signal();
  AugmentOptions o;
  o.noise_prob = 1;
  o.noise_snr = {10, 30};
  std::set<long> seen;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    const AugmentDraw d = draw_augment(o, seed);
    const std::vector<float> y = apply_augment(x, d);
    ASSERT_EQ(y.size(), x.size());
    std::vector<float> noise(x.size());
    for (size_t i = 0; i < x.size(); ++i) noise[i] = y[i] - x[i];
    const double snr = 10 * std::log10(power(x) / power(noise));
    EXPECT_NEAR(snr, d.snr_db, 0.01) << "seed " << seed;
    EXPECT_GE(snr, 10 - 0.01);
    EXPECT_LE(snr, 30 + 0.01);
    seen.insert(std::lround(snr));
  }
  EXPECT_GT(seen.size(), 8u);  // the SNR varies across utterances
  // Pink noise has more of its energy low than white noise has.
  // (The signal is a quiet tone at 8 kHz, outside the bins measured.)
  std::vector<float> silence_white(16000);
  for (size_t i = 0; i < silence_white.size(); ++i) silence_white[i] = i % 2 ? 1e-3f : -1e-3f;
  std::vector<float> silence_pink = silence_white;
  add_noise(silence_white, 0, false, 1);
  add_noise(silence_pink, 0, true, 1);
  const auto low_share = [](const std::vector<float>& v) {
    return band_energy(v, 0, 1000) / band_energy(v, 0, 7990);
  };
  EXPECT_NEAR(low_share(silence_white), 1000.0 / 8000, 0.03);
  EXPECT_GT(low_share(silence_pink), 0.4);
}

TEST(Augment, SpeedChangesLengthAndPitch) {
  // A 500 Hz tone played 1.1 times faster lasts 1/1.1 as long and sounds at 550 Hz.
  std::vector<float> tone(32000);
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<float>(0.5 * std::sin(2 * kPi * 500 * i / kRate));
  for (double f : {0.9, 1.1}) {
    const std::vector<float> y = change_speed(tone, f);
    EXPECT_EQ(static_cast<int64_t>(y.size()), std::llround(32000 / f));
    EXPECT_EQ(static_cast<int64_t>(y.size()), augmented_length(32000, f));
    const std::vector<float> middle(y.begin() + 4000, y.begin() + 4000 + 16000);
    const double at = band_energy(middle, 500 * f - 10, 500 * f + 20), all = band_energy(middle, 0, 8000);
    EXPECT_GT(at / all, 0.95) << "speed " << f;
  }
  EXPECT_EQ(change_speed(tone, 1.0), tone);
  EXPECT_EQ(augmented_length(32000, 1.0), 32000);
}

TEST(Augment, ReverbKeepsLengthAndEnergyAndSpreadsAClick) {
  const std::vector<float> x = test_signal();
  std::vector<float> y = x;
  reverberate(y, 0.5, 3, 11);
  ASSERT_EQ(y.size(), x.size());
  EXPECT_NEAR(power(y) / power(x), 1.0, 1e-4);
  EXPECT_NE(y, x);
  for (float v : y) ASSERT_TRUE(std::isfinite(v));
  // A click becomes the direct path plus a tail that decays 60 dB in rt60.
  std::vector<float> click(16000, 0.f);
  click[1000] = 1;
  reverberate(click, 0.4, 3, 5);
  const auto energy = [&](size_t from, size_t to) { return power({click.begin() + from, click.begin() + to}); };
  EXPECT_GT(energy(1040, 1040 + 1600), 0);        // reflections within the first 0.1 s
  EXPECT_LT(energy(0, 1000), 1e-20);                // causal (up to the FFT's rounding)
  // Windows 0.1875 s apart: 60 dB * 0.1875 / 0.4 = 28 dB less energy in the later one.
  const double early = energy(1200, 2800), late = energy(4200, 5800);
  EXPECT_GT(10 * std::log10(early / late), 25);
  EXPECT_LT(10 * std::log10(early / late), 31);
}

TEST(Augment, TelephoneIsBandLimited) {
  // White noise over the whole band: after the telephone path nothing is left above 4 kHz and
  // little below 300 Hz, while the 300-3400 Hz band passes.
  std::vector<float> x(16000);
  std::mt19937_64 rng(3);
  for (float& v : x) v = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 - 0.5) * 0.5f;
  std::vector<float> y = x;
  telephone(y);
  ASSERT_EQ(y.size(), x.size());
  const double total = band_energy(y, 0, 8000);
  EXPECT_LT(band_energy(y, 4000, 8000) / total, 1e-4);
  EXPECT_LT(band_energy(y, 0, 150) / total, 0.01);
  EXPECT_GT(band_energy(y, 500, 3000) / band_energy(x, 500, 3000), 0.5);
  // The mu-law round trip quantizes: a pure tone comes back with broadband noise ~38 dB down
  // (8 bits), where the resampling and filters alone are transparent. (1010 Hz: not a divisor
  // of 8 kHz, so the error spreads instead of landing on a few harmonics.)
  std::vector<float> tone(19200);
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<float>(0.3 * std::sin(2 * kPi * 1010 * i / kRate));
  telephone(tone);
  const std::vector<float> steady(tone.begin() + 3200, tone.end());  // past the filters' onset
  const double at_tone = band_energy(steady, 990, 1040), rest = band_energy(steady, 0, 8000) - at_tone;
  EXPECT_GT(10 * std::log10(at_tone / rest), 25);
  EXPECT_LT(10 * std::log10(at_tone / rest), 50);
}

TEST(Augment, BandLimitCutsTheChosenBands) {
  std::vector<float> x(16000);
  std::mt19937_64 rng(4);
  for (float& v : x) v = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 - 0.5);
  std::vector<float> low = x, high = x;
  band_limit(low, 0, 3000);
  band_limit(high, 400, 0);
  EXPECT_LT(band_energy(low, 6000, 8000) / band_energy(x, 6000, 8000), 1e-2);
  EXPECT_GT(band_energy(low, 0, 1500) / band_energy(x, 0, 1500), 0.8);
  EXPECT_LT(band_energy(high, 0, 100) / band_energy(x, 0, 100), 1e-2);
  EXPECT_GT(band_energy(high, 2000, 8000) / band_energy(x, 2000, 8000), 0.9);
}

}  // namespace
}  // namespace w2v::data
