#include "model/onednn.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#ifdef W2V_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "util/error.h"

namespace w2v::model {

#ifdef W2V_HAVE_DNNL
namespace {

using Desc = dnnl::memory::desc;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A CPU stream executes synchronously; one per thread keeps concurrent recognizers apart.
dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

dt dnnl_type(torch::ScalarType t) {
  if (t == torch::kFloat) return dt::f32;
  if (t == torch::kBFloat16) return dt::bf16;
  throw Error(std::string("oneDNN kernels run fp32 or bf16, not ") + c10::toString(t));
}

dnnl::memory wrap(const Desc& d, const void* p) { return dnnl::memory(d, cpu_engine(), const_cast<void*>(p)); }

void reorder(dnnl::memory from, dnnl::memory to) {
  auto& stream = thread_stream();
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

// What a primitive does to its output: add it to what dst holds (accumulate), then exact GELU.
dnnl::primitive_attr output_attr(bool accumulate, bool gelu) {
  dnnl::post_ops ops;
  if (accumulate) ops.append_sum(1.0f);
#if DNNL_VERSION_MAJOR >= 3
  if (gelu) ops.append_eltwise(dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
#else
  if (gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
#endif
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  // Our scratchpad per call: the library's is shared by all primitives and binds each to the
  // thread that created it, while the primitive cache hands one primitive to every thread.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A matmul's descriptor: bias may be a zero desc (none). Hides the constructor oneDNN 3 changed.
dnnl::matmul::primitive_desc matmul_desc(const Desc& src, const Desc& weights, const Desc& bias, const Desc& dst,
                                         const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return dnnl::matmul::primitive_desc(cpu_engine(), src, weights, bias, dst, attr);
#else
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bias, dst), attr, cpu_engine());
#endif
}

// Runs a primitive with the current thread's stream and a scratchpad from LibTorch's allocator;
// oneDNN's OpenMP regions are sized by this thread's OpenMP setting, which
// lazy_init_num_threads makes LibTorch's.
void execute(const dnnl::primitive& p, const Desc& scratchpad, std::unordered_map<int, dnnl::memory> args) {
  torch::Tensor buffer;
  if (scratchpad.get_size() > 0) {
    buffer = torch::empty({static_cast<int64_t>(scratchpad.get_size())}, torch::kUInt8);
    args.emplace(DNNL_ARG_SCRATCHPAD, wrap(scratchpad, buffer.data_ptr()));
  }
  auto& stream = thread_stream();
  p.execute(stream, args);
  stream.wait();
}

// A weight reordered once into the layout a primitive asked for when prepared. In practice the
// layout depends on the CPU and the weight's shape only; should a primitive for another input
// length ask for another, the weight is repacked for that call (correct, slower).
struct PackedWeight {
  torch::Tensor storage;  // the packed bytes, or the plain tensor when that is the layout
  Desc desc;

  PackedWeight(const torch::Tensor& plain, const Desc& plain_desc, const Desc& packed_desc) : desc(packed_desc) {
    if (packed_desc == plain_desc) {
      storage = plain;  // already in the layout asked for: shared, not copied
      return;
    }
    storage = torch::empty({static_cast<int64_t>(desc.get_size())}, torch::kUInt8);
    reorder(wrap(plain_desc, plain.data_ptr()), wrap(desc, storage.data_ptr()));
  }
  dnnl::memory for_primitive(const Desc& wanted) const {
    if (wanted == desc) return wrap(desc, storage.data_ptr());
    dnnl::memory repacked(wanted, cpu_engine());
    reorder(wrap(desc, storage.data_ptr()), repacked);
    return repacked;
  }
};

// Creates a primitive with GELU fused when asked: oneDNN 2.6 offers some kernels (its jit bf16
// grouped convolution) with a GELU post-op they then fail to generate. Those run unfused from
// then on (`unfusable`), the caller applying GELU. Returns the primitive and whether GELU is in it.
template <class Primitive, class MakeDesc>
std::tuple<typename Primitive::primitive_desc, Primitive, bool> create(bool gelu, std::atomic<bool>& unfusable,
                                                                        const MakeDesc& make_desc) {
  if (gelu && !unfusable.load()) {
    try {
      auto pd = make_desc(true);
      return {pd, Primitive(pd), true};
    } catch (const dnnl::error&) {
      unfusable = true;
    }
  }
  auto pd = make_desc(false);
  return {pd, Primitive(pd), false};
}

}  // namespace
#endif

int64_t tensor_bytes(const torch::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  RECORD_FUNCTION("w2v::sgemm", std::vector<c10::IValue>());  // visible to LibTorch's profiler
#ifdef W2V_HAVE_DNNL
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

// ---- PackedLinear ----

struct PackedLinear::Impl {
  int64_t in = 0, out = 0;
  bool gelu = false;
  torch::ScalarType dtype;
  torch::Tensor bias;  // [out] in dtype, or undefined
#ifdef W2V_HAVE_DNNL
  std::optional<PackedWeight> weight;

  mutable std::atomic<bool> gelu_unfusable{false};

  dnnl::matmul::primitive_desc primitive(int64_t M, const Desc& weights, bool gelu) const {
    const Desc src({M, in}, dnnl_type(dtype), tag::ab), dst({M, out}, dnnl_type(dtype), tag::ab);
    const Desc bia = bias.defined() ? Desc({1, out}, dnnl_type(dtype), tag::ab) : Desc();
    return matmul_desc(src, weights, bia, dst, output_attr(false, gelu));
  }
  Desc weight_desc(tag layout) const { return Desc({in, out}, dnnl_type(dtype), layout); }  // plain: tag::ba
#else
  torch::Tensor weight;  // [out, in] in dtype
#endif
};

PackedLinear::PackedLinear(const torch::Tensor& weight, const torch::Tensor& bias, bool gelu, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->out = weight.size(0);
  impl->in = weight.size(1);
  impl->gelu = gelu;
  impl->dtype = dtype;
  auto w = weight.detach().to(dtype).contiguous();
  if (bias.defined()) impl->bias = bias.detach().to(dtype).contiguous();
#ifdef W2V_HAVE_DNNL
  at::internal::lazy_init_num_threads();
  try {
    // Packed beside the module's own fp32 parameters: BASE holds 377 MB more, for products 8 %
    // faster (docs/inference.md, "Memory").
    const auto packed = impl->primitive(512, impl->weight_desc(tag::any), gelu).weights_desc();
    impl->weight.emplace(w, impl->weight_desc(tag::ba), packed);
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN could not prepare a Linear layer: ") + e.what());
  }
#else
  impl->weight = w;
#endif
  impl_ = std::move(impl);
}

torch::Tensor PackedLinear::operator()(const torch::Tensor& x) const {
  const auto& m = *impl_;
  RECORD_FUNCTION("w2v::packed_linear", std::vector<c10::IValue>());  // visible to LibTorch's profiler
  auto sizes = x.sizes().vec();
  sizes.back() = m.out;
#ifdef W2V_HAVE_DNNL
  auto x2 = x.to(m.dtype).reshape({-1, m.in}).contiguous();
  auto y = torch::empty({x2.size(0), m.out}, x2.options());
  if (x2.size(0) == 0) return y.view(sizes);
  at::internal::lazy_init_num_threads();
  try {
    const auto [pd, matmul, fused] = create<dnnl::matmul>(
        m.gelu, m.gelu_unfusable, [&](bool gelu) { return m.primitive(x2.size(0), m.weight_desc(tag::any), gelu); });
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x2.data_ptr())},
                                               {DNNL_ARG_WEIGHTS, m.weight->for_primitive(pd.weights_desc())},
                                               {DNNL_ARG_DST, wrap(pd.dst_desc(), y.data_ptr())}};
    if (m.bias.defined()) args.emplace(DNNL_ARG_BIAS, wrap(pd.bias_desc(), m.bias.data_ptr()));
    execute(matmul, pd.scratchpad_desc(), std::move(args));
    if (m.gelu && !fused) y = at::gelu(y);
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN matmul failed: ") + e.what() + " (input " + c10::str(x.sizes()) + " " +
                c10::toString(m.dtype) + ", weight [" + std::to_string(m.out) + ", " + std::to_string(m.in) + "])");
  }
  return y.view(sizes);
#else
  auto y = at::linear(x.to(m.dtype), m.weight, m.bias);
  return m.gelu ? at::gelu(y) : y;
#endif
}

int64_t PackedLinear::bytes() const {
#ifdef W2V_HAVE_DNNL
  return tensor_bytes(impl_->weight->storage) + tensor_bytes(impl_->bias);
#else
  return tensor_bytes(impl_->weight) + tensor_bytes(impl_->bias);
#endif
}

// ---- PackedConv1d ----

namespace {

// Output frames per call of an unpadded convolution's kernels.
constexpr int64_t kFrameChunk = 8192;

// GELU in place on frames [t0, t0 + n) of utterance b of y [B, T, C], for kernels that could
// not fuse it.
[[maybe_unused]] void gelu_frames(torch::Tensor& y, int64_t b, int64_t t0, int64_t n) {
  auto frames = y[b].narrow(0, t0, n);
  frames.copy_(at::gelu(frames));
}

}  // namespace

struct PackedConv1d::Impl {
  int64_t in = 0, out = 0, kernel = 0, stride = 1, pad_left = 0, pad_right = 0, groups = 1;
  bool gelu = false;
  torch::ScalarType dtype;
  torch::Tensor bias;
#ifdef W2V_HAVE_DNNL
  std::optional<PackedWeight> weight;  // the convolution's, unless it runs per tap
  // Unpadded, ungrouped fp32 convolutions over wide inputs run as one matmul per kernel tap on
  // a strided view of the input (output frame t reads input frame t * stride + tap), summed
  // into the output: 20-25 % faster than oneDNN's convolution kernels on the feature
  // extractor's layers. Tap j's weight is [out, in] = weight[:, :, j].
  std::vector<PackedWeight> taps;

  mutable std::atomic<bool> gelu_unfusable{false};

  static bool runs_per_tap(int64_t in, int64_t pad_left, int64_t pad_right, int64_t groups, torch::ScalarType dtype) {
    // bf16 would round the running sum to bf16 after every tap.
    return dtype == torch::kFloat && groups == 1 && pad_left == 0 && pad_right == 0 && in >= 64;
  }

  dnnl::matmul::primitive_desc tap_primitive(int64_t T, int64_t tap, const Desc& weights, bool gelu) const {
    const Desc src({T, in}, dt::f32, {stride * in, 1}), dst({T, out}, dt::f32, tag::ab);
    const Desc bia = tap == 0 && bias.defined() ? Desc({1, out}, dt::f32, tag::ab) : Desc();
    return matmul_desc(src, weights, bia, dst, output_attr(/*accumulate=*/tap > 0, gelu));
  }
  Desc tap_weight_desc(tag layout) const { return Desc({in, out}, dt::f32, layout); }  // plain: tag::ba

  dnnl::convolution_forward::primitive_desc primitive(int64_t B, int64_t L, const Desc& weights, bool gelu) const {
    const int64_t L_out = (L + pad_left + pad_right - kernel) / stride + 1;
    const Desc src({B, in, L}, dnnl_type(dtype), tag::nwc), dst({B, out, L_out}, dnnl_type(dtype), tag::nwc);
    const Desc bia = bias.defined() ? Desc({out}, dnnl_type(dtype), tag::a) : Desc();
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto algo = dnnl::algorithm::convolution_direct;
#if DNNL_VERSION_MAJOR >= 3
    return dnnl::convolution_forward::primitive_desc(cpu_engine(), prop, algo, src, weights, bia, dst, {stride},
                                                     {pad_left}, {pad_right}, output_attr(false, gelu));
#else
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(prop, algo, src, weights, bia, dst, {stride}, {pad_left}, {pad_right}),
        output_attr(false, gelu), cpu_engine());
#endif
  }
  // torch's [out, in / groups, k] is oneDNN's oiw, or goiw split by groups.
  Desc weight_desc(bool plain) const {
    if (groups == 1) return Desc({out, in, kernel}, dnnl_type(dtype), plain ? tag::oiw : tag::any);
    return Desc({groups, out / groups, in / groups, kernel}, dnnl_type(dtype), plain ? tag::goiw : tag::any);
  }
#else
  torch::Tensor weight;
#endif
};

PackedConv1d::PackedConv1d(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad_left,
                           int64_t pad_right, int64_t groups, bool gelu, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->out = weight.size(0);
  impl->in = weight.size(1) * groups;
  impl->kernel = weight.size(2);
  impl->stride = stride;
  impl->pad_left = pad_left;
  impl->pad_right = pad_right;
  impl->groups = groups;
  impl->gelu = gelu;
  impl->dtype = dtype;
  auto w = weight.detach().to(dtype).contiguous();
  if (bias.defined()) impl->bias = bias.detach().to(dtype).contiguous();
#ifdef W2V_HAVE_DNNL
  at::internal::lazy_init_num_threads();
  try {
    if (Impl::runs_per_tap(impl->in, pad_left, pad_right, groups, dtype)) {
      for (int64_t j = 0; j < impl->kernel; ++j) {
        const auto packed = impl->tap_primitive(512, j, impl->tap_weight_desc(tag::any), false).weights_desc();
        impl->taps.emplace_back(w.select(2, j).contiguous(), impl->tap_weight_desc(tag::ba), packed);
      }
    } else {
      const int64_t typical = 512 * stride + impl->kernel;
      const auto packed = impl->primitive(1, typical, impl->weight_desc(false), gelu).weights_desc();
      impl->weight.emplace(w, impl->weight_desc(true), packed);
    }
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN could not prepare a convolution: ") + e.what());
  }
#else
  impl->weight = w;
#endif
  impl_ = std::move(impl);
}

torch::Tensor PackedConv1d::operator()(const torch::Tensor& x) const {
  const auto& m = *impl_;
  RECORD_FUNCTION("w2v::packed_conv1d", std::vector<c10::IValue>());  // visible to LibTorch's profiler
  TORCH_CHECK(x.dim() == 3 && x.size(2) == m.in, "PackedConv1d: expected [B, L, ", m.in, "], got ", x.sizes());
  const int64_t B = x.size(0), L = x.size(1), L_out = (L + m.pad_left + m.pad_right - m.kernel) / m.stride + 1;
  if (B == 0 || L_out <= 0) return torch::empty({B, std::max<int64_t>(L_out, 0), m.out}, x.options().dtype(m.dtype));
#ifdef W2V_HAVE_DNNL
  auto in = x.to(m.dtype).contiguous();
  auto y = torch::empty({B, L_out, m.out}, in.options());
  at::internal::lazy_init_num_threads();
  try {
    // Unpadded convolutions (the feature extractor's) run over chunks of output frames: the
    // kernels' scratchpads grow with the length (GBs for a minute of audio), chunks bound them.
    const int64_t chunk = m.pad_left == 0 && m.pad_right == 0 ? kFrameChunk : L_out;
    const auto* src = static_cast<const char*>(in.data_ptr());
    auto* dst = static_cast<char*>(y.data_ptr());
    const int64_t element = in.element_size();
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t0 = 0; t0 < L_out; t0 += chunk) {
        const int64_t n = std::min(chunk, L_out - t0);
        const char* x0 = src + (b * L + t0 * m.stride) * m.in * element;
        char* y0 = dst + (b * L_out + t0) * m.out * element;
        if (!m.taps.empty()) {
          for (int64_t j = 0; j < m.kernel; ++j) {
            const auto [pd, matmul, gelu_in] =
                create<dnnl::matmul>(j + 1 == m.kernel && m.gelu, m.gelu_unfusable, [&](bool gelu) {
                  return m.tap_primitive(n, j, m.tap_weight_desc(tag::any), gelu);
                });
            std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x0 + j * m.in * element)},
                                                       {DNNL_ARG_WEIGHTS, m.taps[j].for_primitive(pd.weights_desc())},
                                                       {DNNL_ARG_DST, wrap(pd.dst_desc(), y0)}};
            if (j == 0 && m.bias.defined()) args.emplace(DNNL_ARG_BIAS, wrap(pd.bias_desc(), m.bias.data_ptr()));
            execute(matmul, pd.scratchpad_desc(), std::move(args));
            if (j + 1 == m.kernel && m.gelu && !gelu_in) gelu_frames(y, b, t0, n);
          }
        } else {
          const int64_t length = chunk == L_out ? L : (n - 1) * m.stride + m.kernel;  // input frames read
          const auto [pd, conv, gelu_in] = create<dnnl::convolution_forward>(
              m.gelu, m.gelu_unfusable, [&](bool gelu) { return m.primitive(1, length, m.weight_desc(false), gelu); });
          std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x0)},
                                                     {DNNL_ARG_WEIGHTS, m.weight->for_primitive(pd.weights_desc())},
                                                     {DNNL_ARG_DST, wrap(pd.dst_desc(), y0)}};
          if (m.bias.defined()) args.emplace(DNNL_ARG_BIAS, wrap(pd.bias_desc(), m.bias.data_ptr()));
          execute(conv, pd.scratchpad_desc(), std::move(args));
          if (m.gelu && !gelu_in) gelu_frames(y, b, t0, n);
        }
      }
    }
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN convolution failed: ") + e.what() + " (input " + c10::str(x.sizes()) + " " +
                c10::toString(m.dtype) + ", weight [" + std::to_string(m.out) + ", " + std::to_string(m.in / m.groups) +
                ", " + std::to_string(m.kernel) + "], stride " + std::to_string(m.stride) + ", groups " +
                std::to_string(m.groups) + ")");
  }
  return y;
#else
  auto padded = at::constant_pad_nd(x.to(m.dtype).transpose(1, 2), {m.pad_left, m.pad_right});
  auto y = at::conv1d(padded, m.weight, m.bias, at::IntArrayRef{m.stride}, at::IntArrayRef{0}, at::IntArrayRef{1}, m.groups);
  if (m.gelu) y = at::gelu(y);
  return y.transpose(1, 2).contiguous();
#endif
}

int64_t PackedConv1d::bytes() const {
#ifdef W2V_HAVE_DNNL
  int64_t n = tensor_bytes(impl_->bias);
  if (impl_->weight) n += tensor_bytes(impl_->weight->storage);
  for (const auto& tap : impl_->taps) n += tensor_bytes(tap.storage);
  return n;
#else
  return tensor_bytes(impl_->weight) + tensor_bytes(impl_->bias);
#endif
}

const char* kernel_backend() {
#ifdef W2V_HAVE_DNNL
  return "onednn";
#else
  return "libtorch";
#endif
}

}  // namespace w2v::model
