#include "model/precision.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>

#include "model/onednn.h"
#include "util/error.h"

namespace w2v::model {

namespace {

std::atomic<bool> forced_fallback{false};

bool env_fallback() {
  const char* v = std::getenv("W2V_CPU_FALLBACK");
  return v && *v && std::strcmp(v, "0") != 0;
}

// quantized:: operators through the dispatcher: their packed-weight class has no public header.
c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, "").callBoxed(&stack);
  return stack.at(0);
}

// bf16 rounding simulated in fp32 (fallback): the value a bf16 tensor would hold.
torch::Tensor round_bf16(const torch::Tensor& t) { return t.to(torch::kBFloat16).to(torch::kFloat); }

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "int8") return Precision::kInt8;
  throw Error("precision '" + name + "': expected fp32, bf16 or int8");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

CpuKernels cpu_kernels() {
  CpuKernels k;
  if (forced_fallback || env_fallback()) return k;
  __builtin_cpu_init();
  k.bf16 = __builtin_cpu_supports("avx512bf16");
  k.int8 = __builtin_cpu_supports("avx512vnni");
  return k;
}

void set_cpu_fallback(bool on) { forced_fallback = on; }

bool use_prepared(const torch::nn::Module& m) { return !m.is_training() && !torch::GradMode::is_enabled(); }

// ---- FastLinear ----

struct FastLinear::Impl {
  Precision precision;
  Activation activation;
  bool fast;
  std::optional<PackedLinear> packed_linear;  // fp32, and bf16 on AVX512-BF16
  torch::Tensor weight, bias;                  // bf16-rounded or dequantized fp32 (fallback)
  c10::IValue packed;                          // int8 fast: quantized::linear_prepack's packed weights
  int64_t bytes = 0;                           // what the prepared weights occupy
};

FastLinear::FastLinear(const torch::Tensor& weight, const torch::Tensor& bias, Precision p, Activation activation) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->precision = p;
  impl->activation = activation;
  const bool gelu = activation == Activation::kGelu;
  const auto kernels = cpu_kernels();
  auto w = weight.detach().to(torch::kFloat).contiguous();
  auto b = bias.defined() ? bias.detach().to(torch::kFloat).contiguous() : torch::Tensor();
  switch (p) {
    case Precision::kFp32:
      impl->fast = true;
      impl->packed_linear.emplace(w, b, gelu, torch::kFloat);
      impl->bytes = impl->packed_linear->bytes();
      break;
    case Precision::kBf16:
      impl->fast = kernels.bf16;
      if (impl->fast) {
        impl->packed_linear.emplace(w, b, gelu, torch::kBFloat16);
        impl->bytes = impl->packed_linear->bytes();
      } else {
        impl->weight = round_bf16(w);
        if (b.defined()) impl->bias = round_bf16(b);
        impl->bytes = tensor_bytes(impl->weight) + tensor_bytes(impl->bias);
      }
      break;
    case Precision::kInt8: {
      impl->fast = kernels.int8;
      // Symmetric per-output-channel scales: the row's largest |w| maps to 127.
      auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-12).to(torch::kDouble);
      auto q = at::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0, torch::kQInt8);
      if (impl->fast) {
        at::globalContext().setQEngine(at::QEngine::ONEDNN);
        impl->packed = call_op("quantized::linear_prepack", {q, b.defined() ? c10::IValue(b) : c10::IValue()});
      } else {
        impl->weight = q.dequantize();
      }
      impl->bias = b;
      // int8 weights + fp32 scales and bias, whatever the kernel's packed layout adds.
      impl->bytes = w.numel() + 4 * w.size(0) + tensor_bytes(b);
      break;
    }
  }
  impl_ = std::move(impl);
}

torch::Tensor FastLinear::operator()(const torch::Tensor& x) const {
  const auto& m = *impl_;
  if (m.packed_linear) return (*m.packed_linear)(x);
  auto activate = [&m](torch::Tensor y) { return m.activation == Activation::kGelu ? at::gelu(y) : y; };
  if (m.precision == Precision::kBf16)  // fallback
    return activate(at::linear(round_bf16(x), m.weight, m.bias).to(torch::kBFloat16));
  auto sizes = x.sizes().vec();
  auto x2 = x.to(torch::kFloat).reshape({-1, x.size(-1)}).contiguous();
  torch::Tensor y;
  if (m.fast) {
    y = call_op("quantized::linear_dynamic", {x2, m.packed, false}).toTensor();
  } else {
    // What the int8 kernel computes: x quantized per tensor to uint8 over [min(x, 0), max(x, 0)].
    const double lo = std::min(0.0, x2.min().item<double>()), hi = std::max(0.0, x2.max().item<double>());
    const double scale = hi > lo ? (hi - lo) / 255.0 : 1.0;
    const int64_t zero = std::llround(-lo / scale);
    y = at::linear(at::fake_quantize_per_tensor_affine(x2, scale, zero, 0, 255), m.weight, m.bias);
  }
  sizes.back() = y.size(-1);
  return activate(y.view(sizes));
}

int64_t FastLinear::bytes() const { return impl_ ? impl_->bytes : 0; }

torch::Tensor linear(const FastLinear& fast, torch::nn::LinearImpl& module, const torch::Tensor& x) {
  if (fast && use_prepared(module)) return fast(x);
  return module.forward(x);
}

// ---- FastConv1d ----

struct FastConv1d::Impl {
  std::optional<PackedConv1d> packed;  // fp32, and bf16 on AVX512-BF16
  torch::Tensor weight, bias;          // bf16-rounded fp32 (fallback)
  int64_t stride, pad_left, pad_right, groups;
  bool gelu;
};

FastConv1d::FastConv1d(const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride, int64_t pad_left,
                       int64_t pad_right, int64_t groups, Precision p, Activation activation) {
  torch::NoGradGuard no_grad;
  auto impl = std::make_shared<Impl>();
  impl->stride = stride;
  impl->pad_left = pad_left;
  impl->pad_right = pad_right;
  impl->groups = groups;
  impl->gelu = activation == Activation::kGelu;
  auto w = weight.detach().to(torch::kFloat).contiguous();
  auto b = bias.defined() ? bias.detach().to(torch::kFloat).contiguous() : torch::Tensor();
  if (p == Precision::kFp32 || cpu_kernels().bf16) {
    impl->packed.emplace(w, b, stride, pad_left, pad_right, groups, impl->gelu,
                         p == Precision::kFp32 ? torch::kFloat : torch::kBFloat16);
  } else {
    impl->weight = round_bf16(w);
    if (b.defined()) impl->bias = round_bf16(b);
  }
  impl_ = std::move(impl);
}

torch::Tensor FastConv1d::operator()(const torch::Tensor& x) const {
  const auto& m = *impl_;
  if (m.packed) return (*m.packed)(x);
  auto padded = at::constant_pad_nd(round_bf16(x).transpose(1, 2), {m.pad_left, m.pad_right});
  auto y = at::conv1d(padded, m.weight, m.bias, at::IntArrayRef{m.stride}, at::IntArrayRef{0}, at::IntArrayRef{1}, m.groups).to(torch::kBFloat16);
  if (m.gelu) y = at::gelu(y);
  return y.transpose(1, 2).contiguous();
}

int64_t FastConv1d::bytes() const {
  if (!impl_) return 0;
  if (impl_->packed) return impl_->packed->bytes();
  return tensor_bytes(impl_->weight) + tensor_bytes(impl_->bias);
}

// ---- attention ----

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& key_padding_mask) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), hd = q.size(3);
  const bool per_head = q.scalar_type() == torch::kFloat && !torch::GradMode::is_enabled() && q.stride(3) == 1 &&
                        k.stride(3) == 1 && v.stride(3) == 1 && k.strides() == q.strides() && v.strides() == q.strides();
  if (!per_head) {
    auto q3 = q.reshape({B * H, T, hd}), k3 = k.reshape({B * H, T, hd}), v3 = v.reshape({B * H, T, hd});
    auto scores = torch::bmm(q3, k3.transpose(1, 2)).view({B, H, T, T});
    if (key_padding_mask.defined())
      scores = scores.masked_fill(key_padding_mask.view({B, 1, 1, T}), -std::numeric_limits<float>::infinity());
    auto probs = torch::softmax(scores, -1, torch::kFloat).to(q.scalar_type()).view({B * H, T, T});
    return torch::bmm(probs, v3).view({B, H, T, hd}).transpose(1, 2).reshape({B, T, H * hd});
  }
  // Head by head on the strided views (rows of a head are stride(2) apart): no copies of q/k/v.
  // One head's scores at a time: a [T, T] buffer that stays in cache between its product, its
  // softmax and the product with V, where all heads' scores at once ([B, H, T, T], 432 MB at 60 s)
  // went through memory three times (softmax took a third of a 60 s forward).
  const int64_t sb = q.stride(0), sh = q.stride(1), row = q.stride(2);
  auto head = [&](const torch::Tensor& t, int64_t b, int64_t h) { return t.data_ptr<float>() + b * sb + h * sh; };
  auto scores = torch::empty({T, T}, q.options()), probs = torch::empty({T, T}, q.options());
  auto out = torch::empty({B, T, H * hd}, q.options());  // head h writes columns h*hd..
  for (int64_t b = 0; b < B; ++b) {
    const auto padded_keys = key_padding_mask.defined() ? key_padding_mask[b].view({1, T}) : torch::Tensor();
    for (int64_t h = 0; h < H; ++h) {
      sgemm(false, true, T, T, hd, head(q, b, h), row, head(k, b, h), row, scores.data_ptr<float>(), T);
      if (padded_keys.defined()) scores.masked_fill_(padded_keys, -std::numeric_limits<float>::infinity());
      at::_softmax_out(probs, scores, -1, false);
      sgemm(false, false, T, hd, T, probs.data_ptr<float>(), T, head(v, b, h), row,
            out.data_ptr<float>() + b * T * H * hd + h * hd, H * hd);
    }
  }
  return out;
}

}  // namespace w2v::model
