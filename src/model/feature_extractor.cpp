#include "model/feature_extractor.h"

#include "model/gelu.h"

#include <ATen/Parallel.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>

namespace w2v::model {

namespace {

constexpr int64_t kFrameTile = 128;  // frames normalized together: C x 128 floats stay in L2

// LayerNorm over the channels of frames [0, n) of x [C, T] (rows `stride` apart) into y, same
// layout. The loops run along frames, so they vectorize without transposing the tensor.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void normalize_channels(const float* x, float* y, int64_t C, int64_t stride, int64_t n, const float* weight,
                        const float* bias, float eps) {
  float mean[kFrameTile] = {}, rstd[kFrameTile] = {};
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < n; ++t) mean[t] += x[c * stride + t];
  for (int64_t t = 0; t < n; ++t) mean[t] /= static_cast<float>(C);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < n; ++t) {
      const float d = x[c * stride + t] - mean[t];
      rstd[t] += d * d;
    }
  for (int64_t t = 0; t < n; ++t) rstd[t] = 1.0f / std::sqrt(rstd[t] / static_cast<float>(C) + eps);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t t = 0; t < n; ++t)
      y[c * stride + t] = (x[c * stride + t] - mean[t]) * rstd[t] * weight[c] + bias[c];
}

}  // namespace

TransposedLayerNormImpl::TransposedLayerNormImpl(int64_t channels) {
  norm_ = register_module("1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({channels}).eps(1e-5)));
}

torch::Tensor TransposedLayerNormImpl::forward(const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled() && x.dim() == 3) {
    // Inference: normalize in place of the two transposes, which cost more than the norm itself.
    auto in = x.to(torch::kFloat).contiguous();
    auto out = torch::empty_like(in);
    auto weight = norm_->weight.to(torch::kFloat).contiguous(), bias = norm_->bias.to(torch::kFloat).contiguous();
    const int64_t B = in.size(0), C = in.size(1), T = in.size(2), tiles = (T + kFrameTile - 1) / kFrameTile;
    at::parallel_for(0, B * tiles, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t offset = i / tiles * C * T + i % tiles * kFrameTile;
        normalize_channels(in.data_ptr<float>() + offset, out.data_ptr<float>() + offset, C, T,
                           std::min(kFrameTile, T - i % tiles * kFrameTile), weight.data_ptr<float>(),
                           bias.data_ptr<float>(), 1e-5f);
      }
    });
    return out.to(x.scalar_type());
  }
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
