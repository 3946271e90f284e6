// Acoustic-model output, one type everywhere: EmissionMatrix, a row-major [frames, vocab] float
// array of per-frame token scores (raw logits or log-probabilities; spec 8.1 - rankings are the
// same) with the id of its utterance. The model, the Recognizer, emission files (infer's
// --dump/--load-emissions), .npy logits (extract --logits, decode) all give or take it;
// Emissions is the decoders' non-owning view of one (the caller keeps the data alive).
#pragma once

#include <cmath>
#include <string>
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
  // Names the utterance in a set: its manifest row ("0", "1", ...) for a split's emissions and
  // emission files, an .npy file's stem, "<file>:<row>" when several files are read; "" for the
  // emissions of one signal.
  std::string id;
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
