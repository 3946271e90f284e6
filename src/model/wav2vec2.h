// The wav2vec 2.0 pre-training model (fairseq Wav2Vec2Model, spec 1-5): feature encoder ->
// features_pen -> layer_norm -> post_extract_proj -> masking -> context network, plus the
// pre-training heads (quantizer, project_q, final_proj, contrastive logits). Parameter names
// are fairseq's state-dict keys (mask_emb, feature_extractor.*, post_extract_proj.*,
// layer_norm.*, encoder.*, quantizer.*, project_q.*, final_proj.*). Masks and negatives are
// drawn by the caller (src/train), so the model itself is deterministic given its inputs
// (apart from dropout, layerdrop and Gumbel noise in training).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "model/config.h"
#include "model/feature_extractor.h"
#include "model/precision.h"
#include "model/quantizer.h"
#include "model/transformer_encoder.h"

namespace w2v::model {

struct Wav2Vec2Features {
  torch::Tensor x;                           // [B, T, D] context network output
  torch::Tensor padding_mask;                // [B, T] bool, true = padded frame; undefined if none
  std::vector<torch::Tensor> layer_results;  // [B, T, D] output of each executed layer
  torch::Tensor features_pen;                // scalar mean square of the conv output
  torch::Tensor unmasked_features;           // [B, T, C] after layer_norm and dropout_features
};

struct Wav2Vec2PretrainOutput {
  torch::Tensor logits;        // [1 + K, B, M] cosine / logit_temp; row 0 = positive
  torch::Tensor padding_mask;  // [B, T] bool or undefined
  torch::Tensor features_pen;  // scalar
  QuantizerOutput quantized;   // perplexities, num_vars, temp, targets of the masked frames
};

class Wav2Vec2ModelImpl : public torch::nn::Module {
 public:
  explicit Wav2Vec2ModelImpl(const Wav2Vec2Config& cfg, bool with_pretraining_heads = true);

  // source [B, L] float; padding_mask [B, L] bool (true = padded sample) or undefined.
  // T = cropped_frames(output_length(L)).
  // mask_indices [B, T] bool: frames replaced by mask_emb; mask_channel_indices [B, C] bool:
  // channels zeroed at every frame (both undefined = no masking). layer: -1 = all layers,
  // j = stop after layer j (0-based).
  Wav2Vec2Features extract_features(const torch::Tensor& source, const torch::Tensor& padding_mask = {},
                                    const torch::Tensor& mask_indices = {},
                                    const torch::Tensor& mask_channel_indices = {}, int64_t layer = -1);

  // Full pre-training forward. mask_indices [B, T] bool with the same count M of true per row;
  // negative_indices [B, M * K] (or [B, M, K]) int64 indices into the flattened [B * M] masked
  // targets (fairseq sample_negatives layout, t-major).
  Wav2Vec2PretrainOutput forward(const torch::Tensor& source, const torch::Tensor& padding_mask,
                                 const torch::Tensor& mask_indices, const torch::Tensor& negative_indices,
                                 const torch::Tensor& mask_channel_indices = {});

  // x [B, M, F] predictions, y [B, M, F] positives, negatives [K, B, M, F] -> [1 + K, B, M]
  // cosine similarity / logit_temp in fp32; negatives identical to the positive get -inf.
  torch::Tensor compute_preds(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& negatives) const;

  // Frame-level padding mask [B, T] (true = padded) from a sample-level one, by the conv-length
  // formula of current fairseq; undefined when padding_mask is undefined or has no padding.
  torch::Tensor frame_padding_mask(const torch::Tensor& padding_mask, int64_t frames) const;
  int64_t output_length(int64_t samples) const { return conv_output_length(feature_extractor->specs(), samples); }
  // Frames the context network sees of `frames` conv frames: crop_seq_to_multiple drops the
  // rest of the last multiple (extract_features' T for a batch of output_length(L) frames).
  int64_t cropped_frames(int64_t frames) const { return frames - frames % cfg_.crop_seq_to_multiple; }

  // Prepares inference weights at precision p (precision.h); used in eval mode without
  // autograd only. The parameters stay as they are: prepare again after changing them.
  void prepare(Precision p);
  int64_t prepared_bytes() const;  // memory of the prepared weights (0 when not prepared)

  // Propagates the update count (quantizer temperature).
  void set_num_updates(int64_t num_updates);

  const Wav2Vec2Config& config() const { return cfg_; }

  torch::Tensor mask_emb;
  ConvFeatureExtractionModel feature_extractor{nullptr};
  torch::nn::Linear post_extract_proj{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  TransformerEncoder encoder{nullptr};
  // Pre-training heads; null when built without them (fine-tuning).
  GumbelVectorQuantizer quantizer{nullptr};
  torch::nn::Linear project_q{nullptr};
  torch::nn::Linear final_proj{nullptr};

 private:
  Wav2Vec2Config cfg_;
  torch::nn::Dropout dropout_input_{nullptr}, dropout_features_{nullptr};
  FastLinear post_extract_proj_fast_;
};
TORCH_MODULE(Wav2Vec2Model);

}  // namespace w2v::model
