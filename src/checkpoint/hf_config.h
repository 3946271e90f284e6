// The settings of a HuggingFace wav2vec2 directory: config.json (transformers' Wav2Vec2Config
// names and defaults) and preprocessor_config.json's do_normalize, as our model config.
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"

namespace w2v::ckpt {

struct HfConfig {
  model::Wav2Vec2Config config;
  bool ctc = false;  // Wav2Vec2ForCTC; else Wav2Vec2ForPreTraining
  int64_t vocab_size = 32;
  double final_dropout = 0.1;
  bool apply_mask = true;  // apply_spec_augment
  std::string path;        // config.json, for later error messages
};

// w2v::Error naming config.json and the key for: no config.json, bad JSON, another model_type or
// architecture, non-GELU activations, layer_norm_eps != 1e-5, adapters, a value of the wrong
// type, settings Wav2Vec2Config::validate rejects.
HfConfig read_huggingface_config(const std::string& dir);

}  // namespace w2v::ckpt
