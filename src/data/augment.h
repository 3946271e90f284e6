// Training-time audio augmentation (issue 19): speed perturbation, additive noise at a random
// SNR, synthetic room reverberation, band-limiting and a telephone path, drawn per utterance
// from a seed, so an epoch's audio is a function of (seed, epoch, item) only. Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace w2v::data {

// What may be applied (task.augment_* keys, docs/training.md); everything off by default.
struct AugmentOptions {
  std::vector<double> speed;  // factors, one drawn with equal probability; empty = no speed change
  double noise_prob = 0;
  std::array<double, 2> noise_snr{10, 30};  // dB, uniform in [lo, hi]
  double reverb_prob = 0;
  std::array<double, 2> reverb_rt60{0.2, 0.8};  // seconds, uniform in [lo, hi]
  double band_prob = 0;
  double telephone_prob = 0;

  bool enabled() const;
};

// The augmentations of one utterance, drawn from its seed.
struct AugmentDraw {
  double speed = 1;
  bool noise = false, pink = false;
  double snr_db = 0;
  bool reverb = false;
  double rt60 = 0, direct_to_reverb_db = 0;
  bool band = false;
  double high_pass_hz = 0, low_pass_hz = 0;  // 0 = that filter is off
  bool telephone = false;
  uint64_t seed = 0;  // noise samples and the room's impulse response
};

// The same options and seed always draw the same values; every option draws a fixed number of
// values whatever the probabilities, so changing one probability leaves the others' draws alone.
AugmentDraw draw_augment(const AugmentOptions& options, uint64_t seed);

// Samples after `draw` (16 kHz): speed -> reverberation -> noise -> band-limit -> telephone
// (the room, then its noise, then the channel). Length round(n / speed).
std::vector<float> apply_augment(const std::vector<float>& samples, const AugmentDraw& draw);

// Length apply_augment returns for n samples at this speed.
int64_t augmented_length(int64_t n, double speed);

// The pieces, at 16 kHz. change_speed resamples as if played `factor` times faster (pitch
// follows, as sox's `speed` and Kaldi's speed perturbation); the result has round(n / factor)
// samples.
std::vector<float> change_speed(const std::vector<float>& samples, double factor);
// White or pink (Kellet's filter) Gaussian noise scaled so that signal power / noise power is
// snr_db over the whole utterance.
void add_noise(std::vector<float>& samples, double snr_db, bool pink, uint64_t seed);
// Convolution with a synthetic room impulse response: a direct path, then Gaussian reflections
// decaying 60 dB in rt60 seconds, direct_to_reverb_db above them; FFT convolution, the tail past
// the end cut (the length is kept) and the result scaled back to the input's RMS.
void reverberate(std::vector<float>& samples, double rt60, double direct_to_reverb_db, uint64_t seed);
// Fourth-order Butterworth-like high-pass and/or low-pass (two RBJ biquads each); 0 = off.
void band_limit(std::vector<float>& samples, double high_pass_hz, double low_pass_hz);
// Narrow-band telephone path: down to 8 kHz, 300-3400 Hz band-pass, G.711 mu-law 8-bit round
// trip, back to 16 kHz; the length is kept.
void telephone(std::vector<float>& samples);

}  // namespace w2v::data
