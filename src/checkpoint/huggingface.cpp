#include "checkpoint/huggingface.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <unordered_set>

#include "checkpoint/hf_config.h"
#include "checkpoint/hf_weights.h"
#include "checkpoint/json_file.h"
#include "checkpoint/state_dict.h"
#include "checkpoint/torch_file.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::ckpt {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// fairseq key (CTC prefix already stripped) -> HF key.
const std::vector<std::pair<std::regex, std::string>>& rules() {
  static const std::vector<std::pair<std::regex, std::string>> r = [] {
    std::vector<std::pair<std::string, std::string>> text = {
        {R"(feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias))", "wav2vec2.feature_extractor.conv_layers.$1.conv.$2"},
        {R"(feature_extractor\.conv_layers\.0\.2\.(weight|bias))", "wav2vec2.feature_extractor.conv_layers.0.layer_norm.$1"},
        {R"(feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias))", "wav2vec2.feature_extractor.conv_layers.$1.layer_norm.$2"},
        {R"(layer_norm\.(weight|bias))", "wav2vec2.feature_projection.layer_norm.$1"},
        {R"(post_extract_proj\.(weight|bias))", "wav2vec2.feature_projection.projection.$1"},
        {R"(encoder\.pos_conv\.0\.(weight_g|weight_v|bias))", "wav2vec2.encoder.pos_conv_embed.conv.$1"},
        {R"(encoder\.layer_norm\.(weight|bias))", "wav2vec2.encoder.layer_norm.$1"},
        {R"(encoder\.layers\.(\d+)\.self_attn\.(q|k|v|out)_proj\.(weight|bias))", "wav2vec2.encoder.layers.$1.attention.$2_proj.$3"},
        {R"(encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias))", "wav2vec2.encoder.layers.$1.layer_norm.$2"},
        {R"(encoder\.layers\.(\d+)\.fc1\.(weight|bias))", "wav2vec2.encoder.layers.$1.feed_forward.intermediate_dense.$2"},
        {R"(encoder\.layers\.(\d+)\.fc2\.(weight|bias))", "wav2vec2.encoder.layers.$1.feed_forward.output_dense.$2"},
        {R"(encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias))", "wav2vec2.encoder.layers.$1.final_layer_norm.$2"},
        {R"(mask_emb)", "wav2vec2.masked_spec_embed"},
        {R"(quantizer\.vars)", "quantizer.codevectors"},
        {R"(quantizer\.weight_proj\.(weight|bias))", "quantizer.weight_proj.$1"},
        {R"(project_q\.(weight|bias))", "project_q.$1"},
        {R"(final_proj\.(weight|bias))", "project_hid.$1"},
        {R"(w2v_encoder\.proj\.(weight|bias))", "lm_head.$1"},
    };
    std::vector<std::pair<std::regex, std::string>> out;
    for (auto& [re, fmt] : text) out.emplace_back(std::regex(re), fmt);
    return out;
  }();
  return r;
}

const std::string kCtcPrefix = "w2v_encoder.w2v_model.";

}  // namespace

std::string huggingface_key(const std::string& fairseq_key) {
  std::string key = fairseq_key;
  if (key.rfind(kCtcPrefix, 0) == 0) key = key.substr(kCtcPrefix.size());
  for (const auto& [re, format] : rules())
    if (std::regex_match(key, re)) return std::regex_replace(key, re, format);
  throw key_error(fairseq_key, "has no HuggingFace equivalent");
}

LoadedModel load_huggingface(const std::string& dir) {
  const HfConfig hc = read_huggingface_config(dir);
  const std::string& config_path = hc.path;
  const model::Wav2Vec2Config& c = hc.config;
  // The weights first: their size bounds the network the configuration may ask for.
  HfWeights loaded = load_huggingface_weights(dir);
  const std::string& weights = loaded.source;
  LoadedModel m;
  m.format = "huggingface";
  m.config = c;
  const bool ctc = hc.ctc;
  check_config_fits_weights(c, ctc ? hc.vocab_size : 0, !ctc, loaded.tensors, config_path);
  if (ctc) {
    m.kind = ModelKind::kCtc;
    m.asr.final_dropout = hc.final_dropout;
    m.asr.apply_mask = hc.apply_mask;
    m.ctc = model::Wav2VecCtc(c, hc.vocab_size, m.asr);
  } else {
    m.kind = ModelKind::kPretraining;
    m.pretraining = model::Wav2Vec2Model(c, /*with_pretraining_heads=*/true);
  }

  Value hf = normalize_weight_norm(loaded.tensors, loaded.source);
  // Rename HF keys to ours through the forward map of the keys our module has.
  std::unordered_map<std::string, std::string> to_ours;
  Value ours_sd = state_dict(m.module());
  for (const auto& [k, t] : ours_sd.as_dict().items) to_ours[huggingface_key(k.as_string())] = k.as_string();
  Value renamed = Value::dict(true);
  std::unordered_set<std::string> taken;  // a set, not Value::set's scan: files may hold many tensors
  for (const auto& [k, t] : hf.as_dict(weights).items) {
    const std::string& key = k.as_string(weights + ": key");
    auto it = to_ours.find(key);
    const std::string& name = it == to_ours.end() ? key : it->second;
    if (!taken.insert(name).second) throw Error(weights + ": tensor '" + name + "' appears twice (once under its HF name)");
    renamed.as_dict().items.emplace_back(Value::string(name), t);
  }
  // transformers omits masked_spec_embed when masking is disabled; it only matters in training,
  // so the freshly initialised embedding stays.
  const std::string mask_emb = ctc ? kCtcPrefix + "mask_emb" : "mask_emb";
  if (!renamed.has(mask_emb)) renamed.set(mask_emb, *ours_sd.find(mask_emb));
  load_state_dict(m.module(), renamed, weights);

  const std::string vocab_path = dir + "/vocab.json";
  if (ctc && fs::exists(vocab_path)) {
    const json v = json(read_json_file(vocab_path));
    if (!v.is_object()) throw Error(vocab_path + ": expected {symbol: id}");
    std::vector<std::string> names(v.size());
    for (const auto& [sym, id] : v.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<size_t>() >= names.size() || !names[id.get<size_t>()].empty())
        throw Error(fmt::format("{}: ids must be 0..{} without gaps or repeats; '{}' has {}", vocab_path, names.size() - 1, sym, id.dump()));
      names[id.get<size_t>()] = sym;
    }
    if (names.size() < 4 || names[0] != "<pad>" || names[1] != "<s>" || names[2] != "</s>" || names[3] != "<unk>")
      throw Error(vocab_path + ": ids 0-3 must be <pad> <s> </s> <unk> (the wav2vec 2.0 letter vocabulary layout)");
    data::Dictionary d;
    for (size_t i = 4; i < names.size(); ++i) d.add(names[i], 0);
    m.dictionary = d;
  }
  return m;
}

void save_huggingface(const std::string& dir, const LoadedModel& m) {
  const model::Wav2Vec2Config& c = m.config;
  const bool ctc = m.kind == ModelKind::kCtc;
  if (!ctc && !c.quantize_targets)
    throw Error(dir + ": Wav2Vec2ForPreTraining needs a quantized-target model (quantize_targets = true)");
  // transformers' Wav2Vec2 has no counterpart of these: the exported model would decode otherwise.
  if (ctc && m.asr.blank_weight != 0)
    throw Error(dir + ": the model has blank_weight " + std::to_string(m.asr.blank_weight) +
                ", which a HuggingFace Wav2Vec2ForCTC cannot express");
  if (c.crop_seq_to_multiple != 1)
    throw Error(dir + ": the model has crop_seq_to_multiple " + std::to_string(c.crop_seq_to_multiple) +
                ", which a HuggingFace Wav2Vec2 cannot express");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create directory: " + ec.message());

  json j;
  j["architectures"] = {ctc ? "Wav2Vec2ForCTC" : "Wav2Vec2ForPreTraining"};
  j["model_type"] = "wav2vec2";
  j["feat_extract_norm"] = c.extractor_mode == "default" ? "group" : "layer";
  j["feat_extract_activation"] = "gelu";
  std::vector<int64_t> dims, kernels, strides;
  for (const auto& l : c.conv_layers()) {
    dims.push_back(l.dim);
    kernels.push_back(l.kernel);
    strides.push_back(l.stride);
  }
  j["conv_dim"] = dims;
  j["conv_kernel"] = kernels;
  j["conv_stride"] = strides;
  j["num_feat_extract_layers"] = dims.size();
  // Every field with a config.json spelling (config/model_fields.h); transformers has no "0 = the
  // same as" for the two head widths, so they are written resolved.
  auto write = [&](const auto& member, const char* key) {
    if (*key) j[key] = member;
  };
#define W2V_WRITE(type, name, default_value, hf_name, hf_default) write(c.name, hf_name);
  W2V_WAV2VEC2_FIELDS(W2V_WRITE)
#undef W2V_WRITE
  j["codevector_dim"] = c.vq_dim();
  j["proj_codevector_dim"] = c.effective_final_dim();
  j["hidden_act"] = "gelu";
  j["layer_norm_eps"] = 1e-5;
  j["final_dropout"] = m.asr.final_dropout;
  j["apply_spec_augment"] = ctc ? m.asr.apply_mask : true;
  j["initializer_range"] = 0.02;
  j["pad_token_id"] = 0;
  j["bos_token_id"] = 1;
  j["eos_token_id"] = 2;
  j["ctc_loss_reduction"] = "sum";
  j["ctc_zero_infinity"] = false;
  if (ctc) j["vocab_size"] = m.ctc->vocab_size();
  write_file_atomic(dir + "/config.json", j.dump(2) + "\n");

  json pre = {{"feature_extractor_type", "Wav2Vec2FeatureExtractor"},
              {"feature_size", 1},
              {"sampling_rate", 16000},
              {"padding_value", 0.0},
              {"padding_side", "right"},
              {"do_normalize", c.normalize},
              {"return_attention_mask", c.extractor_mode == "layer_norm"}};
  write_file_atomic(dir + "/preprocessor_config.json", pre.dump(2) + "\n");

  Value hf = Value::dict(true);
  const Value sd = state_dict(m.module());
  for (const auto& [k, t] : sd.as_dict().items)
    hf.as_dict().items.emplace_back(Value::string(huggingface_key(k.as_string())), Value::tensor(t.as_tensor().to(torch::kCPU)));
  save_torch_file(dir + "/pytorch_model.bin", hf);

  if (ctc && m.dictionary) {
    json v = json::object();
    for (int64_t i = 0; i < m.dictionary->size(); ++i) {
      std::string name = m.dictionary->symbol(i);
      if (i == 0) name = "<pad>";  // HF's names for rows 0 and 1 are swapped (row 0 = blank)
      else if (i == 1) name = "<s>";
      v[name] = i;
    }
    write_file_atomic(dir + "/vocab.json", v.dump(2) + "\n");
  }
}

}  // namespace w2v::ckpt
