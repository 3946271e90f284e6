// Hyper-parameters of a wav2vec 2.0 model, with fairseq's Wav2Vec2Config field names and
// defaults (so a checkpoint's cfg.model / args maps key by key). Presets give the published
// BASE / LARGE-LS / LARGE-LV pre-training configurations (spec sections 1, 3, 5).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

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
  // Feature encoder.
  std::string extractor_mode = "default";  // "default" (GroupNorm in block 0) | "layer_norm"
  std::string conv_feature_layers = "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]";
  bool conv_bias = false;
  double feature_grad_mult = 1.0;  // 0 = frozen (no autograd), else backward scaled by it

  // Transformer.
  int64_t encoder_layers = 12;
  int64_t encoder_embed_dim = 768;
  int64_t encoder_ffn_embed_dim = 3072;
  int64_t encoder_attention_heads = 12;
  std::string activation_fn = "gelu";  // only "gelu" (exact erf) is supported
  bool layer_norm_first = false;       // true = pre-LN (LARGE-LV)
  int64_t conv_pos = 128;
  int64_t conv_pos_groups = 16;

  // Dropouts.
  double dropout = 0.1;
  double attention_dropout = 0.1;
  double activation_dropout = 0.0;
  double encoder_layerdrop = 0.0;
  double dropout_input = 0.0;
  double dropout_features = 0.0;

  // Pre-training heads: quantizer, final_proj, project_q, contrastive logits.
  int64_t final_dim = 0;  // 0 = encoder_embed_dim
  bool quantize_targets = false;
  int64_t latent_vars = 320;
  int64_t latent_groups = 2;
  int64_t latent_dim = 0;  // 0 = final_dim
  std::array<double, 3> latent_temp{2.0, 0.5, 0.999995};  // (max, min, decay per update)
  double logit_temp = 0.1;
  int64_t num_negatives = 100;
  int64_t cross_sample_negatives = 0;

  // Masking (time spans replaced by mask_emb; channel spans zeroed). The masks themselves are
  // drawn by the caller (compute_mask_indices); the model applies them.
  double mask_prob = 0.65;
  int64_t mask_length = 10;
  std::string mask_selection = "static";
  double mask_other = 0.0;
  bool no_mask_overlap = false;
  int64_t mask_min_space = 1;
  bool require_same_masks = true;
  double mask_dropout = 0.0;
  double mask_channel_prob = 0.0;
  int64_t mask_channel_length = 10;
  std::string mask_channel_selection = "static";
  double mask_channel_other = 0.0;
  bool no_mask_channel_overlap = false;
  int64_t mask_channel_min_space = 1;
  bool mask_channel_before = false;

  // Task-level: zero-mean/unit-variance waveform normalisation expected by the model.
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
