#include "checkpoint/state_dict.h"

#include <fmt/format.h>

#include <unordered_map>

#include "util/error.h"

namespace w2v::ckpt {

namespace {

std::string shape(const torch::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string listed(const std::vector<std::string>& keys) {
  const size_t show = 5;
  std::vector<std::string> head(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(std::min(show, keys.size())));
  std::string s = fmt::format("{}", fmt::join(head, ", "));
  if (keys.size() > show) s += fmt::format(" and {} more", keys.size() - show);
  return s;
}

}  // namespace

Value state_dict(const torch::nn::Module& module) {
  Value sd = Value::dict(true);
  for (const auto& p : module.named_parameters()) sd.as_dict().items.emplace_back(Value::string(p.key()), Value::tensor(p.value().detach()));
  for (const auto& b : module.named_buffers()) sd.as_dict().items.emplace_back(Value::string(b.key()), Value::tensor(b.value().detach()));
  return sd;
}

void load_state_dict(torch::nn::Module& module, const Value& sd, const std::string& where) {
  std::unordered_map<std::string, torch::Tensor> file;
  for (const auto& [k, v] : sd.as_dict(where + ": state dict").items) {
    const std::string& key = k.as_string(where + ": state-dict key");
    file.emplace(key, v.as_tensor(where + ": state-dict entry " + key));
  }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::vector<std::string> missing, mismatched;
  auto take = [&](const std::string& key, torch::Tensor dst) {
    auto it = file.find(key);
    if (it == file.end()) {
      missing.push_back(key);
      return;
    }
    if (it->second.sizes() != dst.sizes())
      mismatched.push_back(fmt::format("{} has shape {} in the file, the model needs {}", key, shape(it->second), shape(dst)));
    else if (!it->second.is_floating_point() && dst.is_floating_point())
      mismatched.push_back(fmt::format("{} has dtype {} in the file, the model needs a floating-point tensor", key,
                                       c10::toString(it->second.scalar_type())));
    else copies.emplace_back(dst, it->second);
    file.erase(it);
  };
  for (const auto& p : module.named_parameters()) take(p.key(), p.value());
  for (const auto& b : module.named_buffers()) take(b.key(), b.value());
  std::vector<std::string> extra;
  for (const auto& [k, v] : file) extra.push_back(k);
  std::sort(extra.begin(), extra.end());
  if (!mismatched.empty()) throw Error(where + ": " + mismatched.front() + (mismatched.size() > 1 ? fmt::format(" (and {} more shape mismatches)", mismatched.size() - 1) : ""));
  if (!missing.empty()) throw Error(fmt::format("{}: {} model tensor(s) missing from the checkpoint: {}", where, missing.size(), listed(missing)));
  if (!extra.empty()) throw Error(fmt::format("{}: {} unexpected tensor(s) in the checkpoint: {}", where, extra.size(), listed(extra)));
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
}

Value normalize_weight_norm(const Value& sd, const std::string& where) {
  Value out = Value::dict(true);
  auto& items = out.as_dict().items;
  std::unordered_map<std::string, size_t> at;  // key -> index in items (Value::set scans: quadratic)
  auto put = [&](const std::string& key, Value t) {
    auto [it, fresh] = at.emplace(key, items.size());
    if (fresh) items.emplace_back(Value::string(key), std::move(t));
    else items[it->second].second = std::move(t);
  };
  const std::string g = ".parametrizations.weight.original0", v = ".parametrizations.weight.original1";
  for (const auto& [k, t] : sd.as_dict(where + ": state dict").items) {
    std::string key = k.as_string(where + ": state-dict key");
    if (ends_with(key, g)) key = key.substr(0, key.size() - g.size()) + ".weight_g";
    else if (ends_with(key, v)) key = key.substr(0, key.size() - v.size()) + ".weight_v";
    else if (ends_with(key, "pos_conv.0.weight") || ends_with(key, "pos_conv_embed.conv.weight")) {
      // A folded weight-norm kernel: direction = the kernel, magnitude = its norm over dims 0, 1.
      const torch::Tensor& w = t.as_tensor(where + ": " + key);
      // Computing the norm materialises the tensor: a view repeating a few stored values (stride
      // 0) could claim any size, and no real kernel is one.
      if (w.numel() * static_cast<int64_t>(w.element_size()) > static_cast<int64_t>(w.storage().nbytes()))
        throw Error(where + ": " + key + " is a view repeating its stored values; a convolution kernel cannot be one");
      std::string base = key.substr(0, key.size() - std::string("weight").size());
      put(base + "weight_g", Value::tensor(torch::norm_except_dim(w.to(torch::kFloat), 2, 2)));
      put(base + "weight_v", Value::tensor(w));
      continue;
    }
    put(key, t);
  }
  return out;
}

}  // namespace w2v::ckpt
