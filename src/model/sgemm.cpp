#include "model/sgemm.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/types.h>

#ifdef W2V_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include <string>

#include "util/error.h"

namespace w2v::model {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  RECORD_FUNCTION("w2v::sgemm", std::vector<c10::IValue>());  // visible to LibTorch's profiler
#ifdef W2V_HAVE_DNNL
  // oneDNN runs OpenMP regions sized by this thread's OpenMP setting: make it LibTorch's.
  at::internal::lazy_init_num_threads();
  const dnnl_status_t status =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
  if (status != dnnl_success) throw Error("oneDNN sgemm failed with status " + std::to_string(status));
#else
  auto view = [](const float* p, int64_t rows, int64_t cols, int64_t ld, bool trans) {
    auto t = torch::from_blob(const_cast<float*>(p), {trans ? cols : rows, trans ? rows : cols}, {ld, 1});
    return trans ? t.t() : t;
  };
  auto c = torch::from_blob(C, {M, N}, {ldc, 1});
  at::mm_out(c, view(A, M, K, lda, trans_a), view(B, K, N, ldb, trans_b));
#endif
}

const char* sgemm_backend() {
#ifdef W2V_HAVE_DNNL
  return "onednn";
#else
  return "libtorch";
#endif
}

}  // namespace w2v::model
