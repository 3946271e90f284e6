// fp32 matrix products for the inference kernels (precision.h), through oneDNN when the build
// found it (W2V_HAVE_DNNL; Debian's libtorch links the same libdnnl), else LibTorch. oneDNN
// chooses its kernels from the CPU itself: on AVX-512 its sgemm ran the encoder's shapes at
// 300-380 GFLOP/s with 2 threads, against 140-190 for OpenBLAS held to its AVX2 kernels by
// OPENBLAS_CORETYPE=Haswell, and its matmul primitive (LinearF32) at 390-430 (docs/inference.md).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>

namespace w2v::model {

// A is [M, K] (trans_a: stored [K, M]) with row stride lda; B is [K, N] (trans_b: stored [N, K])
// with row stride ldb; C is [M, N] with row stride ldc and is overwritten. Threads: LibTorch's
// intra-op count. Not differentiable: callers run it only with autograd off.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc);

// A Linear layer (weight [N, K], bias [N] or undefined) for fp32 inference, optionally
// followed by exact GELU: y [M, N] = gelu?(x [M, K] * weight^T + bias). oneDNN's matmul
// primitive, created per M and kept in oneDNN's primitive cache, with bias and GELU fused into
// its output pass; the weight is reordered once into the blocked layout that kernel reads
// (8 % faster than the plain layout with weights streamed from memory). Copies share the
// prepared weight (read-only, thread-safe).
class LinearF32 {
 public:
  LinearF32(const torch::Tensor& weight, const torch::Tensor& bias, bool gelu);
  // x and y contiguous fp32, x [M, in_features()], y [M, out_features()].
  void operator()(int64_t M, const float* x, float* y) const;
  int64_t in_features() const;
  int64_t out_features() const;
  int64_t bytes() const;  // memory of the prepared weight and bias

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// "onednn" or "libtorch": which implementation sgemm runs (w2v info, bench_model).
const char* sgemm_backend();

}  // namespace w2v::model
