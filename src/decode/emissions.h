// Acoustic-model output, one shape everywhere: a row-major [frames, vocab] float array of
// per-frame token scores (raw logits or log-probabilities; spec 8.1 - rankings are the same).
// EmissionMatrix owns one (what the model, the emission files and the Recognizer return);
// Emissions is the decoders' non-owning view of it (the caller keeps the data alive).
#pragma once

#include <cmath>
#include <vector>

namespace w2v::decode {

// One emission frame covers 320 samples at 16 kHz (the feature encoder's total stride).
constexpr double kFrameSeconds = 0.02;

struct Emissions {
  const float* data = nullptr;
  int frames = 0;
  int vocab = 0;
  float at(int t, int v) const { return data[static_cast<size_t>(t) * vocab + v]; }
  const float* row(int t) const { return data + static_cast<size_t>(t) * vocab; }
};

struct EmissionMatrix {
  int frames = 0;
  int vocab = 0;
  std::vector<float> data;  // frames × vocab
  Emissions view() const { return {data.data(), frames, vocab}; }
};

// log Σ_v exp(e[t, v]) per frame: turns any emission score into a log posterior.
inline std::vector<double> log_partition(const Emissions& e) {
  std::vector<double> lse(e.frames);
  for (int t = 0; t < e.frames; ++t) {
    const float* row = e.row(t);
    float mx = row[0];
    for (int v = 1; v < e.vocab; ++v) mx = row[v] > mx ? row[v] : mx;
    double sum = 0;
    for (int v = 0; v < e.vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    lse[t] = mx + std::log(sum);
  }
  return lse;
}

}  // namespace w2v::decode
