// wav2vec 2.0 representations of audio files (what `w2v extract` writes), the library's internal
// piece beside the public recognizer.h: any model w2v reads, pre-trained or fine-tuned; one
// forward per file gives the requested layer outputs and, for a CTC model, its logits as the
// one emission type.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "checkpoint/model_io.h"
#include "decode/emissions.h"

namespace w2v {

// One file's results.
struct Features {
  int64_t samples = 0;                // 16 kHz samples the model heard
  std::vector<torch::Tensor> layers;  // [T, D] each: the requested output, or every layer's (1..L)
  decode::EmissionMatrix logits;      // the CTC logits [T, V] when asked for (else empty)
};

class FeatureExtractor {
 public:
  // Loads the model (errors name the file); precision: fp32 | bf16 | int8 for the network (the
  // CTC head stays fp32).
  FeatureExtractor(const std::string& model, const std::string& precision);

  int layers() const { return model_.config.encoder_layers; }
  bool ctc() const { return model_.kind == ckpt::ModelKind::kCtc; }

  // The audio (any format and rate libsndfile reads, resampled to 16 kHz, normalised as the model
  // was trained) through the network: layer 0 = the final output, k = layer k's output (1-based),
  // -1 = every layer's; logits needs ctc(). Errors name the file.
  Features file(const std::string& audio_path, int layer, bool logits) const;

 private:
  ckpt::LoadedModel model_;
};

}  // namespace w2v
