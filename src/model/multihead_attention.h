// Self-attention of the context network (fairseq MultiheadAttention, self-attention only):
// separate q/k/v/out Linear(D, D) with bias, q scaled by head_dim^-0.5 after projection,
// padded keys masked with -inf, softmax in fp32, dropout on the attention probabilities.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/precision.h"

namespace w2v::model {

class MultiheadAttentionImpl : public torch::nn::Module {
 public:
  MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads, double attention_dropout);
  // x [B, T, D]; key_padding_mask [B, T] bool (true = padding) or undefined -> [B, T, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask);
  // Inference weights (precision.h): q/k/v fused into one product, q's scaling folded in;
  // int8 runs the attention products in bf16 where the CPU has bf16 kernels.
  void prepare(Precision p);
  int64_t prepared_bytes() const { return qkv_.bytes() + out_.bytes(); }

  torch::nn::Linear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};

 private:
  int64_t num_heads_;
  int64_t head_dim_;
  torch::nn::Dropout dropout_{nullptr};
  FastLinear qkv_, out_;
};
TORCH_MODULE(MultiheadAttention);

}  // namespace w2v::model
