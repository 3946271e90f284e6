// A tiny random CTC model for inference tests (tests/decode's, tests/recognizer's, tests/serve's):
// the tests' tiny wav2vec2 (common/tiny_model.h) with a CTC head over the LibriSpeech letter
// dictionary stored with it.
#pragma once

#include <torch/torch.h>

#include <string>

#include "checkpoint/model_io.h"
#include "common/tiny_model.h"

namespace w2v::test {

// Saves the model to `path` and returns it (eval mode). extractor_mode "default" is fairseq's
// GroupNorm feature extractor, "layer_norm" the per-frame one; normalize sets task.normalize.
// blank_bias is added to the blank's output bias: frames whose best other score is less than it
// above the blank's become blank (a way to give the random model pauses); crop_seq_to_multiple
// is the model's.
inline model::Wav2VecCtc save_tiny_ctc(const std::string& path, const std::string& extractor_mode,
                                       bool normalize = false, double blank_bias = 0,
                                       int64_t crop_seq_to_multiple = 1) {
  torch::manual_seed(3);
  ckpt::LoadedModel m;
  m.kind = ckpt::ModelKind::kCtc;
  auto& c = m.config;
  c = tiny_model_config();
  c.extractor_mode = extractor_mode;
  c.normalize = normalize;
  c.crop_seq_to_multiple = crop_seq_to_multiple;
  m.dictionary = ckpt::librispeech_letters();
  m.ctc = model::Wav2VecCtc(c, m.dictionary->size(), m.asr);
  {
    // Larger output weights so that the random model's argmax changes between frames.
    torch::NoGradGuard no_grad;
    m.ctc->w2v_encoder->proj->weight.mul_(20);
    m.ctc->w2v_encoder->proj->bias[0].add_(blank_bias);  // "<s>", the blank of these letters
  }
  m.ctc->eval();
  ckpt::save_model(path, m);
  return m.ctc;
}

}  // namespace w2v::test
