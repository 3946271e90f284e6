// fp32 matrix product for the inference kernels (precision.h): C = op(A) * op(B), row-major,
// with leading dimensions, so strided views (one attention head of a fused q/k/v product) are
// multiplied in place. oneDNN's sgemm when the build found it (W2V_HAVE_DNNL; Debian's
// libtorch links the same libdnnl), else LibTorch's mm. oneDNN chooses its kernels from the
// CPU itself: on AVX-512 it ran the encoder's shapes at 300-380 GFLOP/s with 2 threads, against
// 140-190 for OpenBLAS held to its AVX2 kernels by OPENBLAS_CORETYPE=Haswell (docs/inference.md).
#pragma once

#include <cstdint>

namespace w2v::model {

// A is [M, K] (trans_a: stored [K, M]) with row stride lda; B is [K, N] (trans_b: stored [N, K])
// with row stride ldb; C is [M, N] with row stride ldc and is overwritten. Threads: LibTorch's
// intra-op count. Not differentiable: callers run it only with autograd off.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc);

// "onednn" or "libtorch": which implementation sgemm runs (w2v info, bench_model).
const char* sgemm_backend();

}  // namespace w2v::model
