// Inference kernels through oneDNN when the build found it (W2V_HAVE_DNNL; Debian's libtorch
// links the same libdnnl), else through LibTorch. oneDNN chooses its kernels from the CPU
// itself: on AVX-512 its sgemm ran the encoder's shapes at 300-380 GFLOP/s with 2 threads,
// against 140-190 for OpenBLAS held to its AVX2 kernels by OPENBLAS_CORETYPE=Haswell; its
// matmul and convolution primitives, with weights packed once and channels-last data, at
// 390-450 (docs/inference.md). None of these is differentiable: callers run them only with
// autograd off.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>

namespace w2v::model {

// Memory a tensor's elements take, 0 when it is undefined: what the prepared layers' bytes() add up.
int64_t tensor_bytes(const torch::Tensor& t);

// fp32 C = op(A) * op(B), row-major with leading dimensions, so strided views (one attention
// head of a fused q/k/v product) are multiplied in place. A is [M, K] (trans_a: stored [K, M])
// with row stride lda; B is [K, N] (trans_b: stored [N, K]) with row stride ldb; C is [M, N]
// with row stride ldc and is overwritten. Threads: LibTorch's intra-op count.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc);

// A Linear layer (weight [out, in], bias [out] or undefined), optionally followed by exact
// GELU, computed in `dtype` (fp32, or bf16 with fp32 accumulation on AVX512-BF16 CPUs): one
// matmul primitive per input length, bias and GELU fused into its output pass, the weight
// packed once into the layout the kernel reads (8 % faster than the plain layout with
// weights streamed from memory). Copies share the packed weight (read-only, thread-safe).
class PackedLinear {
 public:
  PackedLinear(const torch::Tensor& weight, const torch::Tensor& bias, bool gelu, torch::ScalarType dtype);
  // x [..., in] (converted to dtype) -> [..., out] in dtype.
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t bytes() const;  // memory of the packed weight and the bias

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// A Conv1d (weight [out, in / groups, k], bias [out] or undefined) on channels-last data,
// optionally followed by exact GELU, in `dtype` like PackedLinear:
// x [B, L, in] -> y [B, L', out], L' = (L + pad_left + pad_right - k) / stride + 1.
// Channels last is the layout the encoder holds its frames in and the one oneDNN's fastest
// convolution kernels read: 2x faster than [B, C, L] for the positional convolution.
class PackedConv1d {
 public:
  PackedConv1d(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad_left,
               int64_t pad_right, int64_t groups, bool gelu, torch::ScalarType dtype);
  torch::Tensor operator()(const torch::Tensor& x) const;
  int64_t bytes() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// "onednn" or "libtorch": which implementation these kernels run (w2v info, bench_model).
const char* kernel_backend();

}  // namespace w2v::model
