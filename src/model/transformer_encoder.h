// Context network (fairseq TransformerEncoder of wav2vec2.py): weight-normalised grouped
// positional convolution, a stack of TransformerSentenceEncoderLayer (post-LN for BASE and
// LARGE-LS, pre-LN when layer_norm_first), and the encoder LayerNorm. LayerDrop skips whole
// layers for the whole batch in training only. Parameter names: pos_conv.0.{weight_g,
// weight_v,bias}, layers.j.{self_attn.*, self_attn_layer_norm, fc1, fc2, final_layer_norm},
// layer_norm.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "model/config.h"
#include "model/multihead_attention.h"
#include "model/precision.h"

namespace w2v::model {

// Conv1d(D, D, kernel, padding kernel/2, groups) under weight normalisation over dim 2
// (weight = g * v / ||v|| per kernel tap), as fairseq's nn.utils.weight_norm(dim=2) stores it.
class WeightNormConv1dImpl : public torch::nn::Module {
 public:
  WeightNormConv1dImpl(int64_t channels, int64_t kernel, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);  // [B, D, T] -> [B, D, T + 1 - kernel % 2]
  torch::Tensor weight() const;                   // g * v / ||v||

  torch::Tensor weight_g, weight_v, bias;

 private:
  int64_t kernel_, groups_;
};
TORCH_MODULE(WeightNormConv1d);

// pos_conv = Sequential(conv, SamePad, GELU); the conv is child "0".
class PositionalConvImpl : public torch::nn::Module {
 public:
  PositionalConvImpl(int64_t channels, int64_t kernel, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, D] -> GELU(conv(x)) [B, T, D]
  // Inference: the normalised weight computed once, SamePad folded into the padding, the
  // frames kept channels last (precision.h).
  void prepare(Precision p);
  int64_t prepared_bytes() const { return fast_.bytes(); }

 private:
  int64_t kernel_, groups_;
  WeightNormConv1d conv_{nullptr};
  FastConv1d fast_;
};
TORCH_MODULE(PositionalConv);

class TransformerSentenceEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerSentenceEncoderLayerImpl(const Wav2Vec2Config& cfg);
  // x [B, T, D], padding_mask [B, T] bool or undefined -> [B, T, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& padding_mask);
  void prepare(Precision p);
  int64_t prepared_bytes() const { return self_attn->prepared_bytes() + fc1_.bytes() + fc2_.bytes(); }

  MultiheadAttention self_attn{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};

 private:
  bool layer_norm_first_;
  torch::nn::Dropout dropout1_{nullptr}, dropout2_{nullptr}, dropout3_{nullptr};
  FastLinear fc1_, fc2_;
};
TORCH_MODULE(TransformerSentenceEncoderLayer);

// Result of the encoder: final output plus every executed layer's output (all [B, T, D]).
struct EncoderOutput {
  torch::Tensor x;
  std::vector<torch::Tensor> layer_results;
};

class TransformerEncoderImpl : public torch::nn::Module {
 public:
  explicit TransformerEncoderImpl(const Wav2Vec2Config& cfg);
  // x [B, T, D]; padding_mask [B, T] bool or undefined. tgt_layer = -1 runs all layers (and
  // the final LayerNorm of pre-LN models); tgt_layer = j stops after layer j (0-based) and
  // returns its output, as fairseq's extract_features(layer=j).
  EncoderOutput forward(const torch::Tensor& x, const torch::Tensor& padding_mask, int64_t tgt_layer = -1);
  // Inference weights of pos_conv and every layer (precision.h); prepared_bytes() their size.
  void prepare(Precision p);
  int64_t prepared_bytes() const;

  PositionalConv pos_conv{nullptr};
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::ModuleList layers;

 private:
  bool layer_norm_first_;
  double layerdrop_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(TransformerEncoder);

}  // namespace w2v::model
