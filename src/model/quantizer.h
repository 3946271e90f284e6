// Product quantizer of the pre-training targets (fairseq GumbelVectorQuantizer, spec 3):
// G groups of V codewords; weight_proj gives per-group logits; training selects codewords with
// hard straight-through Gumbel-softmax at temperature tau(n) = max(max * decay^n, min), eval
// with the plain argmax. Parameters: vars (1, G*V, vq_dim/G), weight_proj.{weight,bias}.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <array>

namespace w2v::model {

struct QuantizerOutput {
  torch::Tensor x;                 // [B, M, vq_dim] selected codewords, concatenated over groups
  torch::Tensor targets;           // [B, M, G] int64 per-group code index (argmax)
  torch::Tensor code_perplexity;   // scalar: sum over groups of exp(entropy of hard usage)
  torch::Tensor prob_perplexity;   // scalar: same with the mean softmax (drives the diversity loss)
  int64_t num_vars = 0;            // G * V
  double temp = 0.0;               // temperature used by this forward
};

class GumbelVectorQuantizerImpl : public torch::nn::Module {
 public:
  // dim: input channels; num_vars: V; temp: (max, min, decay); groups: G; vq_dim: output dim.
  GumbelVectorQuantizerImpl(int64_t dim, int64_t num_vars, std::array<double, 3> temp, int64_t groups,
                            int64_t vq_dim);
  // x [B, M, dim] -> codewords. Gumbel noise comes from the global torch generator, drawn as
  // PyTorch's F.gumbel_softmax does (same seed -> same selection as fairseq).
  QuantizerOutput forward(const torch::Tensor& x);
  void set_num_updates(int64_t num_updates);
  double curr_temp() const { return curr_temp_; }

  torch::Tensor vars;
  torch::nn::Linear weight_proj{nullptr};

 private:
  int64_t num_vars_, groups_;
  double max_temp_, min_temp_, temp_decay_, curr_temp_;
};
TORCH_MODULE(GumbelVectorQuantizer);

}  // namespace w2v::model
