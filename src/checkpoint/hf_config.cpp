#include "checkpoint/hf_config.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "checkpoint/json_file.h"
#include "util/error.h"

namespace w2v::ckpt {

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// HF config field helpers: absent -> HF's default; wrong type -> error naming the key.
struct JsonReader {
  const json& j;
  std::string where;
  template <typename T>
  T get(const char* key, T fallback) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    try {
      return j[key].get<T>();
    } catch (const json::exception&) {
      throw Error(fmt::format("{}: key '{}': unexpected value {}", where, key, j[key].dump()));
    }
  }
};

}  // namespace

HfConfig read_huggingface_config(const std::string& dir) {
  const std::string config_path = dir + "/config.json";
  if (!fs::exists(config_path)) throw Error(dir + ": a directory but not a HuggingFace model (no config.json)");
  const json j = read_json_file(config_path);
  if (!j.is_object()) throw Error(config_path + ": expected a JSON object of settings");
  JsonReader r{j, config_path};
  const std::string model_type = r.get<std::string>("model_type", "wav2vec2");
  if (model_type != "wav2vec2")
    throw Error(config_path + ": key 'model_type': unsupported '" + model_type + "' (expected wav2vec2)");
  auto archs = r.get<std::vector<std::string>>("architectures", {});
  if (archs.size() != 1 || (archs[0] != "Wav2Vec2ForCTC" && archs[0] != "Wav2Vec2ForPreTraining"))
    throw Error(config_path + ": key 'architectures': expected [\"Wav2Vec2ForCTC\"] or [\"Wav2Vec2ForPreTraining\"], got " +
                (j.contains("architectures") ? j["architectures"].dump() : std::string("nothing")));
  for (const char* key : {"hidden_act", "feat_extract_activation"})
    if (r.get<std::string>(key, "gelu") != "gelu")
      throw Error(fmt::format("{}: key '{}': only 'gelu' is supported", config_path, key));
  if (std::abs(r.get<double>("layer_norm_eps", 1e-5) - 1e-5) > 1e-12)
    throw Error(config_path + ": key 'layer_norm_eps': only 1e-5 is supported");
  if (r.get<bool>("add_adapter", false)) throw Error(config_path + ": key 'add_adapter': adapters are not supported");

  HfConfig out;
  out.path = config_path;
  model::Wav2Vec2Config& c = out.config;
  const std::string norm = r.get<std::string>("feat_extract_norm", "group");
  if (norm != "group" && norm != "layer")
    throw Error(config_path + ": key 'feat_extract_norm': expected 'group' or 'layer', got '" + norm + "'");
  c.extractor_mode = norm == "group" ? "default" : "layer_norm";
  auto dims = r.get<std::vector<int64_t>>("conv_dim", {512, 512, 512, 512, 512, 512, 512});
  auto kernels = r.get<std::vector<int64_t>>("conv_kernel", {10, 3, 3, 3, 3, 2, 2});
  auto strides = r.get<std::vector<int64_t>>("conv_stride", {5, 2, 2, 2, 2, 2, 2});
  if (dims.empty() || dims.size() != kernels.size() || dims.size() != strides.size())
    throw Error(config_path + ": conv_dim, conv_kernel and conv_stride must have the same non-zero length");
  std::vector<std::string> layers;
  for (size_t i = 0; i < dims.size(); ++i) layers.push_back(fmt::format("({}, {}, {})", dims[i], kernels[i], strides[i]));
  c.conv_feature_layers = fmt::format("[{}]", fmt::join(layers, ", "));
  // Every field with a config.json spelling (model_fields.h), absent ones at transformers' default.
  auto read = [&](auto& member, const char* key, const std::decay_t<decltype(member)>& hf_default) {
    if (*key) member = r.get(key, hf_default);
  };
#define W2V_READ(type, name, default_value, hf_name, hf_default) read(c.name, hf_name, hf_default);
  W2V_WAV2VEC2_FIELDS(W2V_READ)
#undef W2V_READ
  c.quantize_targets = true;
  const std::string pre_path = dir + "/preprocessor_config.json";
  if (fs::exists(pre_path)) c.normalize = JsonReader{read_json_file(pre_path), pre_path}.get<bool>("do_normalize", false);
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(config_path + ": " + e.what());
  }

  out.ctc = archs[0] == "Wav2Vec2ForCTC";
  out.vocab_size = r.get<int64_t>("vocab_size", 32);
  if (out.ctc && out.vocab_size <= 0)
    throw Error(fmt::format("{}: key 'vocab_size': expected a positive count, got {}", config_path, out.vocab_size));
  out.final_dropout = r.get<double>("final_dropout", 0.1);
  out.apply_mask = r.get<bool>("apply_spec_augment", true);
  return out;
}

}  // namespace w2v::ckpt
