// Hyper-parameters of a wav2vec 2.0 model, with fairseq's Wav2Vec2Config field names and
// defaults (so a checkpoint's cfg.model / args maps key by key; the fields are the table in
// config/model_fields.h). Presets give the published BASE / LARGE-LS / LARGE-LV pre-training
// configurations (spec sections 1, 3, 5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/model_fields.h"

namespace w2v::model {

// One block of the convolutional feature encoder: Conv1d(out = dim, kernel, stride).
struct ConvLayerSpec {
  int64_t dim;
  int64_t kernel;
  int64_t stride;
  bool operator==(const ConvLayerSpec& o) const {
    return dim == o.dim && kernel == o.kernel && stride == o.stride;
  }
};

// Parses fairseq's conv_feature_layers expression: list literals of (dim, kernel, stride)
// tuples joined by '+', each optionally repeated with '* n', e.g.
// "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]".
// Throws w2v::Error quoting the string and the offending position on anything else.
std::vector<ConvLayerSpec> parse_conv_feature_layers(const std::string& expr);

// Frames produced from `samples` input samples: floor((n - k) / s) + 1 per layer, clamped at 0.
int64_t conv_output_length(const std::vector<ConvLayerSpec>& layers, int64_t samples);

struct Wav2Vec2Config {
  // Every model field, with fairseq's name and default: config/model_fields.h's table.
#define W2V_MEMBER(type, name, default_value, hf_name, hf_default) type name = default_value;
  W2V_WAV2VEC2_FIELDS(W2V_MEMBER)
#undef W2V_MEMBER

  // Task-level (fairseq's task.normalize, not a model field): zero-mean/unit-variance waveform
  // normalisation expected by the model.
  bool normalize = false;

  // fairseq presets: "base" (wav2vec_small), "large" (libri960_big, LARGE-LS),
  // "large_lv" (LV-60k vox_new: layer_norm extractor, conv bias, pre-LN, normalize).
  static Wav2Vec2Config preset(const std::string& name);

  // Parsed conv_feature_layers (re-parsed on each call; throws like the parser).
  std::vector<ConvLayerSpec> conv_layers() const;
  // Channels of the last conv block (= the quantizer's input dim and layer_norm's size).
  int64_t conv_dim() const;
  int64_t effective_final_dim() const { return final_dim > 0 ? final_dim : encoder_embed_dim; }
  int64_t vq_dim() const { return latent_dim > 0 ? latent_dim : effective_final_dim(); }

  // Throws w2v::Error naming the key when a value is unusable (bad mode, heads not dividing
  // the width, groups not dividing channels, ...).
  void validate() const;
};

}  // namespace w2v::model
