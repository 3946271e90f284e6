#include "model/transformer_encoder.h"

#include <cmath>

#include "model/gelu.h"

namespace w2v::model {

WeightNormConv1dImpl::WeightNormConv1dImpl(int64_t channels, int64_t kernel, int64_t groups)
    : kernel_(kernel), groups_(groups) {
  // fairseq init: v ~ N(0, sqrt(4 / (kernel * D))), bias 0, g = ||v|| per kernel tap.
  const double std = std::sqrt(4.0 / (static_cast<double>(kernel) * static_cast<double>(channels)));
  auto v = torch::randn({channels, channels / groups, kernel}) * std;
  weight_g = register_parameter("weight_g", torch::norm_except_dim(v, 2, 2));
  weight_v = register_parameter("weight_v", v);
  bias = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor WeightNormConv1dImpl::weight() const { return torch::_weight_norm(weight_v, weight_g, 2); }

torch::Tensor WeightNormConv1dImpl::forward(const torch::Tensor& x) {
  return torch::conv1d(x, weight(), bias, /*stride=*/1, /*padding=*/kernel_ / 2, /*dilation=*/1, groups_);
}

PositionalConvImpl::PositionalConvImpl(int64_t channels, int64_t kernel, int64_t groups)
    : kernel_(kernel), groups_(groups) {
  conv_ = register_module("0", WeightNormConv1d(channels, kernel, groups));
}

void PositionalConvImpl::prepare(Precision p) {
  torch::NoGradGuard no_grad;
  // SamePad drops the last frame of an even kernel's output: pad one frame less on the right.
  fast_ = FastConv1d(conv_->weight(), conv_->bias, 1, kernel_ / 2, kernel_ / 2 - (kernel_ % 2 == 0 ? 1 : 0), groups_, p,
                     Activation::kGelu);
}

torch::Tensor PositionalConvImpl::forward(const torch::Tensor& x) {
  if (fast_ && use_prepared(*this)) return fast_(x);
  auto y = conv_->forward(x.transpose(1, 2));
  if (kernel_ % 2 == 0) y = y.narrow(2, 0, y.size(2) - 1);  // SamePad
  return model::gelu(y).transpose(1, 2);
}

namespace {

// init_bert_params: Linear weights N(0, 0.02), biases 0.
torch::nn::Linear bert_linear(int64_t in, int64_t out) {
  torch::nn::Linear l(in, out);
  torch::NoGradGuard no_grad;
  l->weight.normal_(0.0, 0.02);
  l->bias.zero_();
  return l;
}

}  // namespace

TransformerSentenceEncoderLayerImpl::TransformerSentenceEncoderLayerImpl(const Wav2Vec2Config& cfg)
    : layer_norm_first_(cfg.layer_norm_first) {
  const int64_t D = cfg.encoder_embed_dim;
  self_attn = register_module("self_attn", MultiheadAttention(D, cfg.encoder_attention_heads, cfg.attention_dropout));
  for (auto* l : {&self_attn->k_proj, &self_attn->v_proj, &self_attn->q_proj, &self_attn->out_proj}) {
    torch::NoGradGuard no_grad;
    (*l)->weight.normal_(0.0, 0.02);
    (*l)->bias.zero_();
  }
  dropout1_ = register_module("dropout1", torch::nn::Dropout(cfg.dropout));
  dropout2_ = register_module("dropout2", torch::nn::Dropout(cfg.activation_dropout));
  dropout3_ = register_module("dropout3", torch::nn::Dropout(cfg.dropout));
  self_attn_layer_norm = register_module("self_attn_layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D})));
  fc1 = register_module("fc1", bert_linear(D, cfg.encoder_ffn_embed_dim));
  fc2 = register_module("fc2", bert_linear(cfg.encoder_ffn_embed_dim, D));
  final_layer_norm = register_module("final_layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D})));
}

void TransformerSentenceEncoderLayerImpl::prepare(Precision p) {
  self_attn->prepare(p);
  fc1_ = FastLinear(fc1->weight, fc1->bias, p, Activation::kGelu);
  fc2_ = FastLinear(fc2->weight, fc2->bias, p);
}

torch::Tensor TransformerSentenceEncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& padding_mask) {
  auto ffn = [&](const torch::Tensor& h) {
    if (fc1_ && use_prepared(*fc1) && use_prepared(*fc2)) return fc2_(fc1_(h));  // no dropout in eval
    return fc2->forward(dropout2_->forward(model::gelu(fc1->forward(h))));
  };
  if (layer_norm_first_) {
    auto h = x + dropout1_->forward(self_attn->forward(self_attn_layer_norm->forward(x), padding_mask));
    return h + dropout3_->forward(ffn(final_layer_norm->forward(h)));
  }
  auto h = self_attn_layer_norm->forward(x + dropout1_->forward(self_attn->forward(x, padding_mask)));
  return final_layer_norm->forward(h + dropout3_->forward(ffn(h)));
}

TransformerEncoderImpl::TransformerEncoderImpl(const Wav2Vec2Config& cfg)
    : layer_norm_first_(cfg.layer_norm_first), layerdrop_(cfg.encoder_layerdrop) {
  const int64_t D = cfg.encoder_embed_dim;
  pos_conv = register_module("pos_conv", PositionalConv(D, cfg.conv_pos, cfg.conv_pos_groups));
  layer_norm = register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D})));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.encoder_layers; ++i) layers->push_back(TransformerSentenceEncoderLayer(cfg));
  dropout_ = register_module("dropout", torch::nn::Dropout(cfg.dropout));
}

void TransformerEncoderImpl::prepare(Precision p) {
  pos_conv->prepare(p);
  for (auto& l : *layers) l->as<TransformerSentenceEncoderLayer>()->prepare(p);
}

int64_t TransformerEncoderImpl::prepared_bytes() const {
  int64_t n = pos_conv->prepared_bytes();
  for (const auto& l : *layers) n += l->as<TransformerSentenceEncoderLayer>()->prepared_bytes();
  return n;
}

EncoderOutput TransformerEncoderImpl::forward(const torch::Tensor& input, const torch::Tensor& padding_mask,
                                              int64_t tgt_layer) {
  TORCH_CHECK(tgt_layer >= -1 && tgt_layer < static_cast<int64_t>(layers->size()), "layer ", tgt_layer,
              " out of range [-1, ", layers->size(), ")");
  auto x = input;
  // Padded frames must not leak into real ones through the positional convolution.
  if (padding_mask.defined()) x = x.masked_fill(padding_mask.unsqueeze(-1), 0.0);
  x = x + pos_conv->forward(x);
  if (!layer_norm_first_) x = layer_norm->forward(x);
  x = dropout_->forward(x);

  EncoderOutput out;
  for (int64_t i = 0; i < static_cast<int64_t>(layers->size()); ++i) {
    bool run = !is_training() || layerdrop_ <= 0.0 || torch::rand({1}).item<double>() > layerdrop_;
    if (run) {
      x = (*layers)[i]->as<TransformerSentenceEncoderLayer>()->forward(x, padding_mask);
      out.layer_results.push_back(x);
    }
    if (i == tgt_layer) break;
  }
  if (layer_norm_first_ && tgt_layer == -1) x = layer_norm->forward(x);
  out.x = x;
  return out;
}

}  // namespace w2v::model
