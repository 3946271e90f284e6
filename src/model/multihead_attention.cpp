#include "model/multihead_attention.h"

#include <cmath>
#include <limits>

namespace w2v::model {

MultiheadAttentionImpl::MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads, double attention_dropout)
    : num_heads_(num_heads), head_dim_(embed_dim / num_heads) {
  k_proj = register_module("k_proj", torch::nn::Linear(embed_dim, embed_dim));
  v_proj = register_module("v_proj", torch::nn::Linear(embed_dim, embed_dim));
  q_proj = register_module("q_proj", torch::nn::Linear(embed_dim, embed_dim));
  out_proj = register_module("out_proj", torch::nn::Linear(embed_dim, embed_dim));
  dropout_ = register_module("dropout_module", torch::nn::Dropout(attention_dropout));
}

void MultiheadAttentionImpl::prepare(Precision p) {
  torch::NoGradGuard no_grad;
  const double scaling = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto w = torch::cat({q_proj->weight * scaling, k_proj->weight, v_proj->weight});
  auto b = torch::cat({q_proj->bias * scaling, k_proj->bias, v_proj->bias});
  qkv_ = FastLinear(w, b, p);
  out_ = FastLinear(out_proj->weight, out_proj->bias, p);
}

torch::Tensor MultiheadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  if (qkv_ && use_prepared(*this)) {
    // One [B, T, 3D] product; q, k, v are views of it, [B, H, T, hd] each.
    auto qkv = qkv_(x);
    // Every precision's attention runs in fp32, head by head (attention()): faster than bf16's
    // batched products with all heads' scores at once (BASE 10 s 0.215 against 0.231 s, 60 s
    // 3.44 against 3.67 s) and a tenth of their memory at 60 s.
    if (qkv.scalar_type() != torch::kFloat) qkv = qkv.to(torch::kFloat);
    auto heads = qkv.view({B, T, 3, num_heads_, head_dim_}).permute({2, 0, 3, 1, 4});
    return linear(out_, *out_proj, attention(heads[0], heads[1], heads[2], key_padding_mask));
  }
  const double scaling = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto heads = [&](const torch::Tensor& t) { return t.view({B, T, num_heads_, head_dim_}).transpose(1, 2); };
  auto q = heads(q_proj->forward(x) * scaling);
  auto k = heads(k_proj->forward(x));
  auto v = heads(v_proj->forward(x));
  if (!is_training()) return out_proj->forward(attention(q, k, v, key_padding_mask));  // no dropout
  auto weights = torch::matmul(q, k.transpose(-2, -1));  // [B, H, T, T]
  if (key_padding_mask.defined())
    weights = weights.masked_fill(key_padding_mask.view({B, 1, 1, T}), -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(weights, -1, torch::kFloat).to(x.scalar_type());
  probs = dropout_->forward(probs);
  auto out = torch::matmul(probs, v).transpose(1, 2).reshape({B, T, D});
  return out_proj->forward(out);
}

}  // namespace w2v::model
