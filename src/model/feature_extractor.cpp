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
  precision_ = p;
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
  const auto& o = conv_->options;
  const int64_t patch = x.size(2) * o.kernel_size()->at(0);
  if (group_norm_ && group_norm_->options.num_groups() == o.out_channels() && patch <= kMaxFoldedPatch &&
      x.size(1) >= o.kernel_size()->at(0))
    return forward_group_norm_folded(x);
  auto y = fast_(x);
  if (!group_norm_ && !layer_norm_) return y;  // GELU fused
  auto y32 = y.to(torch::kFloat);
  if (group_norm_) {
    // Statistics over time of a channels-last tensor: correct for any grouping, but a strided
    // reduction 10x slower than the convolution.
    const auto& gn = *group_norm_;
    const int64_t G = gn.options.num_groups(), B = y.size(0), T = y.size(1), C = y.size(2);
    auto grouped = y32.view({B, T, G, C / G});
    auto [var, mean] = at::var_mean(grouped, {1, 3}, /*unbiased=*/false, /*keepdim=*/true);
    auto scale = gn.weight.to(torch::kFloat).view({1, 1, G, C / G}) * (var + 1e-5).rsqrt();
    y32 = at::addcmul(gn.bias.to(torch::kFloat).view({1, 1, G, C / G}) - mean * scale, grouped, scale).view({B, T, C});
    return model::gelu(y32.to(y.scalar_type()));
  }
  y32 = layer_norm_->forward_channels_last(y32);
  return model::gelu(y32.to(y.scalar_type()));
}

torch::Tensor ConvBlockImpl::forward_group_norm_folded(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto& o = conv_->options;
  const int64_t out = o.out_channels(), in = x.size(2), k = o.kernel_size()->at(0), s = o.stride()->at(0);
  const int64_t T = (x.size(1) - k) / s + 1;
  // Weights as rows over a patch's (tap, channel) values, the order of a channels-last window.
  auto w = conv_->weight.to(torch::kDouble).transpose(1, 2).reshape({out, k * in});
  auto gamma = group_norm_->weight.to(torch::kDouble), beta = group_norm_->bias.to(torch::kDouble);
  std::vector<torch::Tensor> frames;
  for (int64_t b = 0; b < x.size(0); ++b) {
    auto xb = x[b].to(torch::kDouble).contiguous();           // [L, in]
    auto patches = xb.as_strided({T, k * in}, {s * in, 1});  // window t starts at frame t * s
    auto mean = patches.mean(0);
    auto centered = patches - mean;
    auto var = (w.mm(centered.t().mm(centered) / static_cast<double>(T)) * w).sum(1);  // w_o' Cov w_o
    // GN(w.p + bias) = a (w.(p - mean)) + beta, a = gamma / sqrt(var + eps): the conv bias cancels.
    auto a = gamma * (var + 1e-5).rsqrt();
    auto folded = (w * a.unsqueeze(1)).view({out, k, in}).transpose(1, 2).to(torch::kFloat);
    auto shift = (beta - a * w.mv(mean)).to(torch::kFloat);
    frames.push_back(FastConv1d(folded, shift, s, 0, 0, 1, precision_, Activation::kGelu)(x[b].unsqueeze(0)));
  }
  return frames.size() == 1 ? frames[0] : torch::cat(frames);
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
