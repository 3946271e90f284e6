// Inference precision (w2v --precision): weights prepared once at load for fp32, bf16 or int8
// kernels, used by the forward code only when autograd is off, so training is untouched.
//   fp32: Linear layers and convolutions through oneDNN's primitives with packed weights and
//         fused bias/GELU, convolutions on channels-last frames; attention products through
//         its sgemm (onednn.h).
//   bf16: the same kernels with bf16 weights and inputs (fp32 accumulation inside oneDNN);
//         residual stream, LayerNorm, GroupNorm, softmax and the CTC logits stay fp32.
//   int8: Linear layers dynamically quantized (weights int8 per output channel, activations
//         uint8 per tensor at run time, quantized engine onednn); convolutions as bf16.
// Fast kernels need AVX512-BF16 (bf16) / AVX512-VNNI (int8); without them, or with the
// environment variable W2V_CPU_FALLBACK=1, the same rounding is simulated in fp32: slower,
// equally accurate (docs/inference.md).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

namespace torch::nn {
class LinearImpl;
class Module;
}

namespace w2v::model {

enum class Precision { kFp32, kBf16, kInt8 };

// "fp32" | "bf16" | "int8"; anything else is a w2v::Error naming the accepted values.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Which fast kernels this process uses: the CPU's features, minus all of them when
// W2V_CPU_FALLBACK=1 or set_cpu_fallback(true).
struct CpuKernels {
  bool bf16 = false;  // AVX512-BF16: oneDNN bf16 matmul/conv
  bool int8 = false;  // AVX512-VNNI: oneDNN int8 matmul
};
CpuKernels cpu_kernels();
// Forces (true) or releases (false) the fallback; applies to weights prepared afterwards.
void set_cpu_fallback(bool on);

// What a prepared layer applies to its output (fused into the product where the kernel can).
enum class Activation { kNone, kGelu };

// A Linear layer (weight [out, in], bias [out] or undefined) prepared once for inference,
// followed by `activation`. Empty (false) until constructed; copies share the prepared weights
// (read-only, thread-safe).
class FastLinear {
 public:
  FastLinear() = default;
  FastLinear(const torch::Tensor& weight, const torch::Tensor& bias, Precision p,
             Activation activation = Activation::kNone);
  explicit operator bool() const { return impl_ != nullptr; }
  // x [..., in] fp32 or bf16 -> activation([..., out]): bf16 for Precision::kBf16, else fp32.
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t bytes() const;  // memory of the prepared weights

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// A Conv1d (weight [out, in / groups, k]) prepared once for inference on channels-last
// frames, followed by `activation`; int8 runs it as bf16. Empty (false) until constructed.
class FastConv1d {
 public:
  FastConv1d() = default;
  FastConv1d(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad_left,
             int64_t pad_right, int64_t groups, Precision p, Activation activation);
  explicit operator bool() const { return impl_ != nullptr; }
  // x [B, L, in] -> [B, L', out] in the prepared compute dtype (bf16 or fp32).
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t bytes() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// True when a prepared kernel may replace `m`'s own forward: eval mode without autograd.
bool use_prepared(const torch::nn::Module& m);

// `fast` when prepared and use_prepared(module), else the module's own forward.
torch::Tensor linear(const FastLinear& fast, torch::nn::LinearImpl& module, const torch::Tensor& x);

// Attention core softmax(q k^T + mask) v for q, k, v [B, H, T, hd] (q already scaled);
// key_padding_mask [B, T] bool or undefined -> [B, T, H * hd]. Softmax in fp32; products in
// q's dtype. Without autograd fp32 products run one matrix per head, each head's [T, T] scores
// in one buffer that stays in cache: Debian's OpenBLAS under LibTorch's threads makes batched
// fp32 bmm 10-30x slower than the same matrices one by one, and all heads' scores at once went
// through memory three times (BASE 60 s: 6.04 -> 4.59 s per forward, peak 2.19 -> 1.75 GB).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_padding_mask);

}  // namespace w2v::model
