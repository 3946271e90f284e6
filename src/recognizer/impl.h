// Recognizer internals shared by recognizer.cpp and stream.cpp (not part of the public header).
#pragma once

#include "decode/decoder.h"
#include "decode/infer/acoustic_model.h"
#include "recognizer/recognizer.h"

namespace w2v {

struct Recognizer::Impl {
  explicit Impl(const RecognizerOptions& o);

  // 16 kHz mono from samples at `rate` (a copy; resampled with soxr when rate differs).
  static std::vector<float> to_16k(const float* samples, size_t n, int rate);
  // The decoder's hypotheses as a Transcript, times shifted by offset_seconds.
  Transcript transcript(const std::vector<decode::DecodeResult>& results, double duration,
                        double offset_seconds = 0) const;
  Transcript decode(const decode::Emissions& e, double duration, double offset_seconds = 0) const;

  RecognizerOptions options;
  decode::AcousticModel model;
  decode::DecoderFactory factory;
};

}  // namespace w2v
