#include "model/feature_extractor.h"

#include "model/gelu.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

namespace w2v::model {

TransposedLayerNormImpl::TransposedLayerNormImpl(int64_t channels) {
  norm_ = register_module("1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({channels}).eps(1e-5)));
}

torch::Tensor TransposedLayerNormImpl::forward(const torch::Tensor& x) {
  // Fp32LayerNorm: statistics in fp32 whatever the activation dtype.
  auto y = torch::layer_norm(x.transpose(-2, -1).to(torch::kFloat), {x.size(-2)}, norm_->weight.to(torch::kFloat),
                             norm_->bias.to(torch::kFloat), 1e-5);
  return y.to(x.scalar_type()).transpose(-2, -1);
}

torch::Tensor TransposedLayerNormImpl::forward_channels_last(const torch::Tensor& x) {
  return torch::layer_norm(x.to(torch::kFloat), {x.size(-1)}, norm_->weight.to(torch::kFloat),
                           norm_->bias.to(torch::kFloat), 1e-5);
}

ConvBlockImpl::ConvBlockImpl(int64_t in_channels, const ConvLayerSpec& spec, bool bias, const std::string& norm) {
  conv_ = register_module(
      "0", torch::nn::Conv1d(torch::nn::Conv1dOptions(in_channels, spec.dim, spec.kernel).stride(spec.stride).bias(bias)));
  torch::nn::init::kaiming_normal_(conv_->weight);
  if (norm == "group") {
    group_norm_ = register_module("2", torch::nn::GroupNorm(torch::nn::GroupNormOptions(spec.dim, spec.dim).eps(1e-5)));
  } else if (norm == "layer") {
    layer_norm_ = register_module("2", TransposedLayerNorm(spec.dim));
  }
}

void ConvBlockImpl::prepare(Precision p) {
  const auto& o = conv_->options;
  const bool norm = group_norm_ || layer_norm_;
  fast_ = FastConv1d(conv_->weight, o.bias() ? conv_->bias : torch::Tensor(), o.stride()->at(0), 0, 0, 1, p,
                     norm ? Activation::kNone : Activation::kGelu);
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x) {
  auto y = conv_->forward(x);
  if (group_norm_) {
    y = torch::group_norm(y.to(torch::kFloat), group_norm_->options.num_groups(), group_norm_->weight.to(torch::kFloat),
                          group_norm_->bias.to(torch::kFloat), 1e-5)
            .to(y.scalar_type());
  } else if (layer_norm_) {
    y = layer_norm_->forward(y);
  }
  return model::gelu(y);
}

torch::Tensor ConvBlockImpl::forward_prepared(const torch::Tensor& x) {
  auto y = fast_(x);
  if (!group_norm_ && !layer_norm_) return y;  // GELU fused
  auto y32 = y.to(torch::kFloat);
  if (group_norm_) {
    // One group per channel (fairseq's GroupNorm(C, C)): statistics over time per channel.
    const auto& gn = *group_norm_;
    TORCH_CHECK(gn.options.num_groups() == y.size(2), "prepared GroupNorm expects one group per channel");
    auto [var, mean] = at::var_mean(y32, {1}, /*unbiased=*/false, /*keepdim=*/true);
    auto scale = gn.weight.to(torch::kFloat) * (var + 1e-5).rsqrt();
    y32 = at::addcmul(gn.bias.to(torch::kFloat) - mean * scale, y32, scale);
  } else {
    y32 = layer_norm_->forward_channels_last(y32);
  }
  return model::gelu(y32.to(y.scalar_type()));
}

ConvFeatureExtractionModelImpl::ConvFeatureExtractionModelImpl(const Wav2Vec2Config& cfg) : specs_(cfg.conv_layers()) {
  cfg.validate();
  conv_layers_ = register_module("conv_layers", torch::nn::ModuleList());
  int64_t in = 1;
  for (size_t i = 0; i < specs_.size(); ++i) {
    std::string norm;
    if (cfg.extractor_mode == "layer_norm") norm = "layer";
    else if (i == 0) norm = "group";
    conv_layers_->push_back(ConvBlock(in, specs_[i], cfg.conv_bias, norm));
    in = specs_[i].dim;
  }
}

void ConvFeatureExtractionModelImpl::prepare(Precision p) {
  for (auto& block : *conv_layers_) block->as<ConvBlock>()->prepare(p);
}

int64_t ConvFeatureExtractionModelImpl::prepared_bytes() const {
  int64_t n = 0;
  for (const auto& block : *conv_layers_) n += block->as<ConvBlock>()->prepared_bytes();
  return n;
}

torch::Tensor ConvFeatureExtractionModelImpl::forward(const torch::Tensor& source) {
  TORCH_CHECK(source.dim() == 2, "feature extractor expects [B, L] audio, got ", source.sizes());
  bool prepared = use_prepared(*this);
  for (auto& block : *conv_layers_) prepared = prepared && block->as<ConvBlock>()->prepared();
  if (prepared) {
    auto x = source.unsqueeze(2);
    for (auto& block : *conv_layers_) x = block->as<ConvBlock>()->forward_prepared(x);
    return x.transpose(1, 2);
  }
  auto x = source.unsqueeze(1);
  for (auto& block : *conv_layers_) x = block->as<ConvBlock>()->forward(x);
  return x;
}

}  // namespace w2v::model
