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

torch::Tensor MultiheadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  const double scaling = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto heads = [&](const torch::Tensor& t) { return t.view({B, T, num_heads_, head_dim_}).transpose(1, 2); };
  auto q = heads(q_proj->forward(x) * scaling);
  auto k = heads(k_proj->forward(x));
  auto v = heads(v_proj->forward(x));
  auto weights = torch::matmul(q, k.transpose(-2, -1));  // [B, H, T, T]
  if (key_padding_mask.defined())
    weights = weights.masked_fill(key_padding_mask.view({B, 1, 1, T}), -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(weights, -1, torch::kFloat).to(x.scalar_type());
  probs = dropout_->forward(probs);
  auto out = torch::matmul(probs, v).transpose(1, 2).reshape({B, T, D});
  return out_proj->forward(out);
}

}  // namespace w2v::model
