#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <random>

#include "audio/audio.h"
#include "data/batching.h"

namespace w2v::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Our own uniform and Gaussian draws: std's distributions differ between library versions, and
// the augmented audio must not.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double uniform(std::mt19937_64& rng, const std::array<double, 2>& range) {
  return range[0] + uniform(rng) * (range[1] - range[0]);
}

// Box-Muller, both values of each pair used.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : rng_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2 * std::log(1 - uniform(rng_)));  // 1 - u is in (0, 1]
    const double a = 2 * kPi * uniform(rng_);
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

double mean_square(const std::vector<float>& x) {
  double sum = 0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return x.empty() ? 0 : sum / static_cast<double>(x.size());
}

// In-place iterative radix-2 FFT (size a power of two) with a precomputed twiddle table;
// inverse without the 1/N scale. Arithmetic on real and imaginary parts by hand: std::complex's
// operator* checks for infinities and costs several times more.
void fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  std::vector<double> cos_table(n / 2), sin_table(n / 2);
  for (size_t k = 0; k < n / 2; ++k) {
    const double angle = 2 * kPi * static_cast<double>(k) / static_cast<double>(n);
    cos_table[k] = std::cos(angle);
    sin_table[k] = inverse ? std::sin(angle) : -std::sin(angle);
  }
  double* d = reinterpret_cast<double*>(a.data());  // std::complex is {re, im}
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t half = len / 2, stride = n / len;
    for (size_t i = 0; i < n; i += len)
      for (size_t k = 0; k < half; ++k) {
        const double wr = cos_table[k * stride], wi = sin_table[k * stride];
        double* u = d + 2 * (i + k);
        double* v = d + 2 * (i + k + half);
        const double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
        v[0] = u[0] - vr;
        v[1] = u[1] - vi;
        u[0] += vr;
        u[1] += vi;
      }
  }
}

// The first x.size() samples of x * h (linear convolution). Both real: one transform of
// x + i h gives both spectra (X[k] = (Z[k] + conj Z[-k]) / 2, H[k] = (Z[k] - conj Z[-k]) / 2i).
std::vector<float> convolve_head(const std::vector<float>& x, const std::vector<double>& h) {
  size_t n = 1;
  while (n < x.size() + h.size() - 1) n <<= 1;
  std::vector<std::complex<double>> z(n);
  for (size_t i = 0; i < x.size(); ++i) z[i].real(x[i]);
  for (size_t i = 0; i < h.size(); ++i) z[i].imag(h[i]);
  fft(z, false);
  std::vector<std::complex<double>> product(n);
  for (size_t k = 0; k < n; ++k) {
    const std::complex<double> a = z[k], b = std::conj(z[(n - k) & (n - 1)]);
    const std::complex<double> xs = (a + b) * 0.5, hs = (a - b) * std::complex<double>(0, -0.5);
    product[k] = xs * hs;
  }
  fft(product, true);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(product[i].real() / static_cast<double>(n));
  return y;
}

// RBJ cookbook biquad, Q = 1/sqrt(2), transposed direct form II in double.
void biquad(std::vector<float>& x, double rate, double cutoff_hz, bool high_pass) {
  const double w0 = 2 * kPi * cutoff_hz / rate, c = std::cos(w0), alpha = std::sin(w0) / std::sqrt(2.0);
  const double a0 = 1 + alpha;
  const double b0 = (high_pass ? (1 + c) / 2 : (1 - c) / 2) / a0, b1 = (high_pass ? -(1 + c) : 1 - c) / a0,
               b2 = b0, a1 = -2 * c / a0, a2 = (1 - alpha) / a0;
  double z1 = 0, z2 = 0;
  for (float& v : x) {
    const double in = v, out = b0 * in + z1;
    z1 = b1 * in - a1 * out + z2;
    z2 = b2 * in - a2 * out;
    v = static_cast<float>(out);
  }
}

void filter(std::vector<float>& x, double rate, double high_pass_hz, double low_pass_hz) {
  for (int pass = 0; pass < 2; ++pass) {
    if (high_pass_hz > 0) biquad(x, rate, high_pass_hz, true);
    if (low_pass_hz > 0) biquad(x, rate, low_pass_hz, false);
  }
}

// G.711-style mu-law (mu = 255) to 8 bits and back, as torchaudio's mu_law_encoding/decoding.
float mu_law_round_trip(float v) {
  constexpr double mu = 255;
  const double x = std::clamp(static_cast<double>(v), -1.0, 1.0);
  const double y = std::copysign(std::log1p(mu * std::abs(x)) / std::log1p(mu), x);
  const double q = std::floor((y + 1) / 2 * mu + 0.5);  // 0..255
  const double d = q / mu * 2 - 1;
  return static_cast<float>(std::copysign(std::expm1(std::abs(d) * std::log1p(mu)) / mu, d));
}

}  // namespace

bool AugmentOptions::enabled() const {
  const bool speed_changes = std::any_of(speed.begin(), speed.end(), [](double s) { return s != 1; });
  return speed_changes || noise_prob > 0 || reverb_prob > 0 || band_prob > 0 || telephone_prob > 0;
}

AugmentDraw draw_augment(const AugmentOptions& o, uint64_t seed) {
  std::mt19937_64 rng(seed);
  AugmentDraw d;
  const uint64_t speed_index = rng();
  if (!o.speed.empty()) d.speed = o.speed[speed_index % o.speed.size()];
  d.noise = uniform(rng) < o.noise_prob;
  d.pink = rng() & 1;
  d.snr_db = uniform(rng, o.noise_snr);
  d.reverb = uniform(rng) < o.reverb_prob;
  d.rt60 = uniform(rng, o.reverb_rt60);
  d.direct_to_reverb_db = uniform(rng, {0, 12});  // a talker 0.5-2 m from the microphone
  d.band = uniform(rng) < o.band_prob;
  const uint64_t kind = rng() % 3;  // low-pass, high-pass or both
  const double high_pass = uniform(rng, {100, 500}), low_pass = uniform(rng, {2500, 7000});
  if (d.band) {
    d.high_pass_hz = kind != 0 ? high_pass : 0;
    d.low_pass_hz = kind != 1 ? low_pass : 0;
  }
  d.telephone = uniform(rng) < o.telephone_prob;
  d.seed = rng();
  return d;
}

int64_t augmented_length(int64_t n, double speed) {
  return speed == 1 ? n : std::llround(static_cast<double>(n) / speed);
}

std::vector<float> change_speed(const std::vector<float>& samples, double factor) {
  if (factor == 1) return samples;
  std::vector<float> out = audio::resample(samples, audio::kSampleRate * factor, audio::kSampleRate);
  out.resize(static_cast<size_t>(augmented_length(static_cast<int64_t>(samples.size()), factor)), 0.f);
  return out;
}

void add_noise(std::vector<float>& samples, double snr_db, bool pink, uint64_t seed) {
  const double power = mean_square(samples);
  if (power == 0) return;  // no signal: no SNR to set
  Gaussian gauss(seed);
  std::vector<float> noise(samples.size());
  double b0 = 0, b1 = 0, b2 = 0;  // Kellet's economy pink filter (-3 dB/octave above ~100 Hz)
  for (float& v : noise) {
    const double white = gauss();
    if (!pink) {
      v = static_cast<float>(white);
      continue;
    }
    b0 = 0.99765 * b0 + white * 0.0990460;
    b1 = 0.96300 * b1 + white * 0.2965164;
    b2 = 0.57000 * b2 + white * 1.0526913;
    v = static_cast<float>(b0 + b1 + b2 + white * 0.1848);
  }
  const double scale = std::sqrt(power / mean_square(noise) * std::pow(10, -snr_db / 10));
  for (size_t i = 0; i < samples.size(); ++i) samples[i] += static_cast<float>(scale * noise[i]);
}

void reverberate(std::vector<float>& samples, double rt60, double direct_to_reverb_db, uint64_t seed) {
  const double power = mean_square(samples);
  if (power == 0 || rt60 <= 0) return;
  const double rate = audio::kSampleRate;
  std::mt19937_64 rng(seed);
  // First reflection 2-10 ms after the direct path; the response ends 60 dB down.
  const size_t delay = static_cast<size_t>(std::lround(rate * (0.002 + 0.008 * uniform(rng))));
  const size_t length = std::max(delay + 1, static_cast<size_t>(std::lround(rate * rt60)));
  std::vector<double> h(length, 0.0);
  Gaussian gauss(rng());
  double tail = 0;
  for (size_t i = delay; i < length; ++i) {
    h[i] = gauss() * std::exp(-std::log(1000.0) * static_cast<double>(i) / (rate * rt60));
    tail += h[i] * h[i];
  }
  const double gain = tail > 0 ? std::sqrt(std::pow(10, -direct_to_reverb_db / 10) / tail) : 0;
  for (size_t i = delay; i < length; ++i) h[i] *= gain;
  h[0] = 1;
  samples = convolve_head(samples, h);
  const double out_power = mean_square(samples);
  if (out_power > 0) {
    const float scale = static_cast<float>(std::sqrt(power / out_power));
    for (float& v : samples) v *= scale;
  }
}

void band_limit(std::vector<float>& samples, double high_pass_hz, double low_pass_hz) {
  filter(samples, audio::kSampleRate, high_pass_hz, low_pass_hz);
}

void telephone(std::vector<float>& samples) {
  if (samples.empty()) return;
  const size_t n = samples.size();
  std::vector<float> narrow = audio::resample(samples, audio::kSampleRate, 8000);
  filter(narrow, 8000, 300, 3400);
  for (float& v : narrow) v = mu_law_round_trip(v);
  samples = audio::resample(narrow, 8000, audio::kSampleRate);
  samples.resize(n, 0.f);
}

std::vector<float> apply_augment(const std::vector<float>& samples, const AugmentDraw& d) {
  std::vector<float> y = change_speed(samples, d.speed);
  if (d.reverb) reverberate(y, d.rt60, d.direct_to_reverb_db, mix_seed(d.seed, 1));
  if (d.noise) add_noise(y, d.snr_db, d.pink, mix_seed(d.seed, 2));
  if (d.band) band_limit(y, d.high_pass_hz, d.low_pass_hz);
  if (d.telephone) telephone(y);
  return y;
}

}  // namespace w2v::data
