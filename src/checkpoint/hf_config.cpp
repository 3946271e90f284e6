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
  c.conv_bias = r.get<bool>("conv_bias", false);
  c.encoder_embed_dim = r.get<int64_t>("hidden_size", 768);
  c.encoder_layers = r.get<int64_t>("num_hidden_layers", 12);
  c.encoder_attention_heads = r.get<int64_t>("num_attention_heads", 12);
  c.encoder_ffn_embed_dim = r.get<int64_t>("intermediate_size", 3072);
  c.conv_pos = r.get<int64_t>("num_conv_pos_embeddings", 128);
  c.conv_pos_groups = r.get<int64_t>("num_conv_pos_embedding_groups", 16);
  c.layer_norm_first = r.get<bool>("do_stable_layer_norm", false);
  c.dropout = r.get<double>("hidden_dropout", 0.1);
  c.attention_dropout = r.get<double>("attention_dropout", 0.1);
  c.activation_dropout = r.get<double>("activation_dropout", 0.1);
  c.dropout_input = r.get<double>("feat_proj_dropout", 0.0);
  c.dropout_features = r.get<double>("feat_quantizer_dropout", 0.0);
  c.encoder_layerdrop = r.get<double>("layerdrop", 0.1);
  c.mask_prob = r.get<double>("mask_time_prob", 0.05);
  c.mask_length = r.get<int64_t>("mask_time_length", 10);
  c.mask_channel_prob = r.get<double>("mask_feature_prob", 0.0);
  c.mask_channel_length = r.get<int64_t>("mask_feature_length", 10);
  c.latent_vars = r.get<int64_t>("num_codevectors_per_group", 320);
  c.latent_groups = r.get<int64_t>("num_codevector_groups", 2);
  c.latent_dim = r.get<int64_t>("codevector_dim", 256);
  c.final_dim = r.get<int64_t>("proj_codevector_dim", 256);
  c.logit_temp = r.get<double>("contrastive_logits_temperature", 0.1);
  c.num_negatives = r.get<int64_t>("num_negatives", 100);
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
