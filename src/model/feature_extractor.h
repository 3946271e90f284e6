// Convolutional feature encoder (fairseq ConvFeatureExtractionModel): waveform [B, L] ->
// latent frames [B, C, T]. Each block is conv -> (dropout p=0) -> [norm] -> GELU, registered
// under fairseq's Sequential indices so parameter names are the checkpoint keys:
// conv_layers.i.0 = Conv1d, conv_layers.0.2 = GroupNorm ("default" mode, block 0 only),
// conv_layers.i.2.1 = LayerNorm over channels ("layer_norm" mode, every block).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"
#include "model/precision.h"

namespace w2v::model {

// fairseq's Sequential(TransposeLast, Fp32LayerNorm, TransposeLast): a LayerNorm over the
// channel axis of a [B, C, T] tensor; the LayerNorm sits at index "1".
class TransposedLayerNormImpl : public torch::nn::Module {
 public:
  explicit TransposedLayerNormImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor forward_channels_last(const torch::Tensor& x);  // the same norm on [B, T, C], in fp32

 private:
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(TransposedLayerNorm);

// One conv block; `norm` is "" (none), "group" or "layer".
class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(int64_t in_channels, const ConvLayerSpec& spec, bool bias, const std::string& norm);
  torch::Tensor forward(const torch::Tensor& x);  // [B, in, L] -> [B, out, T], the module's weights
  // Inference (precision.h): the conv prepared with GELU fused when no norm sits between them.
  void prepare(Precision p);
  bool prepared() const { return static_cast<bool>(fast_); }
  // After prepare: channels-last frames [B, L, in] -> [B, T, out] in the prepared conv's compute
  // dtype (bf16 / fp32); norms in fp32.
  torch::Tensor forward_prepared(const torch::Tensor& x);
  int64_t prepared_bytes() const { return fast_.bytes(); }

 private:
  // GroupNorm with one group per channel (fairseq's, after the first conv) folded into the
  // convolution: each output channel's mean and variance over time follow from the mean and
  // covariance of the input windows (in * kernel values, up to kMaxFoldedPatch), so the
  // normalized, activated frames are written in one pass; per utterance, as the statistics are.
  static constexpr int64_t kMaxFoldedPatch = 256;
  torch::Tensor forward_group_norm_folded(const torch::Tensor& x);

  Precision precision_ = Precision::kFp32;
  torch::nn::Conv1d conv_{nullptr};
  torch::nn::GroupNorm group_norm_{nullptr};
  TransposedLayerNorm layer_norm_{nullptr};
  FastConv1d fast_;
};
TORCH_MODULE(ConvBlock);

class ConvFeatureExtractionModelImpl : public torch::nn::Module {
 public:
  // Uses extractor_mode, conv_feature_layers and conv_bias of `cfg`.
  explicit ConvFeatureExtractionModelImpl(const Wav2Vec2Config& cfg);
  // source [B, L] float -> [B, C, T] with T = conv_output_length(L). Prepared and without
  // autograd, the blocks run on channels-last frames and [B, C, T] is a view of [B, T, C].
  torch::Tensor forward(const torch::Tensor& source);
  // Inference weights (precision.h): bf16 convolutions for bf16 and int8.
  void prepare(Precision p);
  int64_t prepared_bytes() const;

  const std::vector<ConvLayerSpec>& specs() const { return specs_; }

 private:
  std::vector<ConvLayerSpec> specs_;
  torch::nn::ModuleList conv_layers_;
};
TORCH_MODULE(ConvFeatureExtractionModel);

}  // namespace w2v::model
