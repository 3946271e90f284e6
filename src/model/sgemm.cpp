#include "model/sgemm.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/types.h>

#ifdef W2V_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <string>
#include <unordered_map>

#include "util/error.h"

namespace w2v::model {

#ifdef W2V_HAVE_DNNL
namespace {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A CPU stream executes synchronously; one per thread keeps concurrent recognizers apart.
dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

}  // namespace
#endif

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

struct LinearF32::Impl {
  int64_t in = 0, out = 0;
  bool gelu = false;
  torch::Tensor weight;  // [out, in] fp32, or oneDNN's blocked layout of it (bytes) when `packed`
  torch::Tensor bias;    // [out] fp32 or undefined
#ifdef W2V_HAVE_DNNL
  bool packed = false;
  dnnl::memory::desc packed_desc;

  dnnl::matmul::primitive_desc primitive(int64_t M, const dnnl::memory::desc& weights) const {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dnnl::memory::desc src({M, in}, dt::f32, tag::ab), dst({M, out}, dt::f32, tag::ab);
    const dnnl::memory::desc bia = bias.defined() ? dnnl::memory::desc({1, out}, dt::f32, tag::ab) : dnnl::memory::desc();
    dnnl::post_ops ops;
#if DNNL_VERSION_MAJOR >= 3
    if (gelu) ops.append_eltwise(dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
#else
    if (gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
#endif
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
#if DNNL_VERSION_MAJOR >= 3
    return dnnl::matmul::primitive_desc(cpu_engine(), src, weights, bia, dst, attr);
#else
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bia, dst), attr, cpu_engine());
#endif
  }

  dnnl::memory::desc plain_desc() const {
    return dnnl::memory::desc({in, out}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ba);
  }
  dnnl::memory::desc any_desc() const {
    return dnnl::memory::desc({in, out}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
  }
#endif
};

namespace {

#ifdef W2V_HAVE_DNNL
dnnl::memory wrap(const dnnl::memory::desc& d, const void* p) {
  return dnnl::memory(d, cpu_engine(), const_cast<void*>(p));
}

void reorder(const dnnl::memory& from, const dnnl::memory& to) {
  auto& stream = thread_stream();
  dnnl::reorder(from, to).execute(stream, const_cast<dnnl::memory&>(from), const_cast<dnnl::memory&>(to));
  stream.wait();
}
#endif

}  // namespace

LinearF32::LinearF32(const torch::Tensor& weight, const torch::Tensor& bias, bool gelu) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->out = weight.size(0);
  impl->in = weight.size(1);
  impl->gelu = gelu;
  impl->weight = weight.detach().to(torch::kFloat).contiguous();
  if (bias.defined()) impl->bias = bias.detach().to(torch::kFloat).contiguous();
#ifdef W2V_HAVE_DNNL
  at::internal::lazy_init_num_threads();
  try {
    // The layout the kernel asks for at a typical length; in practice it depends on the CPU and
    // the weight's shape, not on M (checked per call).
    impl->packed_desc = impl->primitive(512, impl->any_desc()).weights_desc();
    if (impl->packed_desc != impl->plain_desc()) {
      auto packed = torch::empty({static_cast<int64_t>(impl->packed_desc.get_size())}, torch::kUInt8);
      reorder(wrap(impl->plain_desc(), impl->weight.data_ptr()), wrap(impl->packed_desc, packed.data_ptr()));
      impl->weight = packed;
      impl->packed = true;
    }
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN could not prepare a Linear layer's weights: ") + e.what());
  }
#endif
  impl_ = std::move(impl);
}

void LinearF32::operator()(int64_t M, const float* x, float* y) const {
  const auto& m = *impl_;
  if (M == 0 || m.out == 0) return;
  RECORD_FUNCTION("w2v::linear_f32", std::vector<c10::IValue>());  // visible to LibTorch's profiler
#ifdef W2V_HAVE_DNNL
  at::internal::lazy_init_num_threads();
  try {
    auto pd = m.primitive(M, m.packed ? m.any_desc() : m.plain_desc());
    dnnl::memory weights;
    if (!m.packed || pd.weights_desc() == m.packed_desc) {
      weights = wrap(pd.weights_desc(), m.weight.data_ptr());
    } else {
      // The kernel wants another layout at this length: repack for this call (correct, slower).
      weights = dnnl::memory(pd.weights_desc(), cpu_engine());
      reorder(wrap(m.packed_desc, m.weight.data_ptr()), weights);
    }
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x)},
                                               {DNNL_ARG_WEIGHTS, weights},
                                               {DNNL_ARG_DST, wrap(pd.dst_desc(), y)}};
    if (m.bias.defined()) args.emplace(DNNL_ARG_BIAS, wrap(pd.bias_desc(), m.bias.data_ptr()));
    auto& stream = thread_stream();
    dnnl::matmul(pd).execute(stream, args);
    stream.wait();
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN matmul failed: ") + e.what());
  }
#else
  auto out = torch::from_blob(y, {M, m.out});
  auto in = torch::from_blob(const_cast<float*>(x), {M, m.in});
  if (m.bias.defined()) at::addmm_out(out, m.bias, in, m.weight.t());
  else at::mm_out(out, in, m.weight.t());
  if (m.gelu) out.copy_(at::gelu(out));
#endif
}

int64_t LinearF32::in_features() const { return impl_->in; }
int64_t LinearF32::out_features() const { return impl_->out; }
int64_t LinearF32::bytes() const {
  auto size = [](const torch::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; };
  return size(impl_->weight) + size(impl_->bias);
}

const char* sgemm_backend() {
#ifdef W2V_HAVE_DNNL
  return "onednn";
#else
  return "libtorch";
#endif
}

}  // namespace w2v::model
