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
  fast_ = FastConv1d(conv_->weight, o.bias() ? conv_->bias : torch::Tensor(), o.stride()->at(0), 0, 1, p);
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& x) {
  auto y = fast_ && use_prepared(*this) ? fast_(x) : conv_->forward(x);
  if (group_norm_) {
    y = torch::group_norm(y.to(torch::kFloat), group_norm_->options.num_groups(), group_norm_->weight.to(torch::kFloat),
                          group_norm_->bias.to(torch::kFloat), 1e-5)
            .to(y.scalar_type());
  } else if (layer_norm_) {
    y = layer_norm_->forward(y);
  }
  return model::gelu(y);
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
  auto x = source.unsqueeze(1);
  for (auto& block : *conv_layers_) x = block->as<ConvBlock>()->forward(x);
  return x;
}

}  // namespace w2v::model
