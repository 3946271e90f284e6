#include "checkpoint/fairseq_config.h"

#include <fmt/format.h>

#include <variant>

#include "util/error.h"

namespace w2v::ckpt {

namespace {

using model::Wav2Vec2Config;
using Field = std::variant<std::string Wav2Vec2Config::*, bool Wav2Vec2Config::*, int64_t Wav2Vec2Config::*,
                           double Wav2Vec2Config::*>;

// Every Wav2Vec2Config field under its fairseq name (latent_temp and normalize handled apart).
const std::vector<std::pair<const char*, Field>>& fields() {
  static const std::vector<std::pair<const char*, Field>> f = {
      {"extractor_mode", &Wav2Vec2Config::extractor_mode},
      {"conv_feature_layers", &Wav2Vec2Config::conv_feature_layers},
      {"conv_bias", &Wav2Vec2Config::conv_bias},
      {"feature_grad_mult", &Wav2Vec2Config::feature_grad_mult},
      {"encoder_layers", &Wav2Vec2Config::encoder_layers},
      {"encoder_embed_dim", &Wav2Vec2Config::encoder_embed_dim},
      {"encoder_ffn_embed_dim", &Wav2Vec2Config::encoder_ffn_embed_dim},
      {"encoder_attention_heads", &Wav2Vec2Config::encoder_attention_heads},
      {"activation_fn", &Wav2Vec2Config::activation_fn},
      {"layer_norm_first", &Wav2Vec2Config::layer_norm_first},
      {"conv_pos", &Wav2Vec2Config::conv_pos},
      {"conv_pos_groups", &Wav2Vec2Config::conv_pos_groups},
      {"dropout", &Wav2Vec2Config::dropout},
      {"attention_dropout", &Wav2Vec2Config::attention_dropout},
      {"activation_dropout", &Wav2Vec2Config::activation_dropout},
      {"encoder_layerdrop", &Wav2Vec2Config::encoder_layerdrop},
      {"dropout_input", &Wav2Vec2Config::dropout_input},
      {"dropout_features", &Wav2Vec2Config::dropout_features},
      {"final_dim", &Wav2Vec2Config::final_dim},
      {"quantize_targets", &Wav2Vec2Config::quantize_targets},
      {"latent_vars", &Wav2Vec2Config::latent_vars},
      {"latent_groups", &Wav2Vec2Config::latent_groups},
      {"latent_dim", &Wav2Vec2Config::latent_dim},
      {"logit_temp", &Wav2Vec2Config::logit_temp},
      {"num_negatives", &Wav2Vec2Config::num_negatives},
      {"cross_sample_negatives", &Wav2Vec2Config::cross_sample_negatives},
      {"mask_prob", &Wav2Vec2Config::mask_prob},
      {"mask_length", &Wav2Vec2Config::mask_length},
      {"mask_selection", &Wav2Vec2Config::mask_selection},
      {"mask_other", &Wav2Vec2Config::mask_other},
      {"no_mask_overlap", &Wav2Vec2Config::no_mask_overlap},
      {"mask_min_space", &Wav2Vec2Config::mask_min_space},
      {"require_same_masks", &Wav2Vec2Config::require_same_masks},
      {"mask_dropout", &Wav2Vec2Config::mask_dropout},
      {"mask_channel_prob", &Wav2Vec2Config::mask_channel_prob},
      {"mask_channel_length", &Wav2Vec2Config::mask_channel_length},
      {"mask_channel_selection", &Wav2Vec2Config::mask_channel_selection},
      {"mask_channel_other", &Wav2Vec2Config::mask_channel_other},
      {"no_mask_channel_overlap", &Wav2Vec2Config::no_mask_channel_overlap},
      {"mask_channel_min_space", &Wav2Vec2Config::mask_channel_min_space},
      {"mask_channel_before", &Wav2Vec2Config::mask_channel_before},
  };
  return f;
}

// The fine-tuning config fields fairseq's Wav2VecEncoder copies into the pre-trained model
// config (name in Wav2Vec2AsrConfig -> name in Wav2Vec2Config).
const std::vector<std::pair<const char*, const char*>>& overrides() {
  static const std::vector<std::pair<const char*, const char*>> o = {
      {"dropout", "dropout"},
      {"activation_dropout", "activation_dropout"},
      {"dropout_input", "dropout_input"},
      {"attention_dropout", "attention_dropout"},
      {"mask_length", "mask_length"},
      {"mask_prob", "mask_prob"},
      {"require_same_masks", "require_same_masks"},
      {"mask_dropout", "mask_dropout"},
      {"mask_selection", "mask_selection"},
      {"mask_other", "mask_other"},
      {"no_mask_overlap", "no_mask_overlap"},
      {"mask_channel_length", "mask_channel_length"},
      {"mask_channel_prob", "mask_channel_prob"},
      {"mask_channel_before", "mask_channel_before"},
      {"mask_channel_selection", "mask_channel_selection"},
      {"mask_channel_other", "mask_channel_other"},
      {"no_mask_channel_overlap", "no_mask_channel_overlap"},
      {"layerdrop", "encoder_layerdrop"},
      {"feature_grad_mult", "feature_grad_mult"},
  };
  return o;
}

void read_field(Wav2Vec2Config& cfg, const Field& field, const Value& v, const std::string& key) {
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(cfg.*member)>;
        if constexpr (std::is_same_v<T, std::string>) cfg.*member = v.as_string(key);
        else if constexpr (std::is_same_v<T, bool>) cfg.*member = v.as_bool(key);
        else if constexpr (std::is_same_v<T, int64_t>) cfg.*member = v.as_int(key);
        else cfg.*member = v.as_double(key);
      },
      field);
}

Value field_value(const Wav2Vec2Config& cfg, const Field& field) {
  return std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(cfg.*member)>;
        if constexpr (std::is_same_v<T, std::string>) return Value::string(cfg.*member);
        else if constexpr (std::is_same_v<T, bool>) return Value::boolean(cfg.*member);
        else if constexpr (std::is_same_v<T, int64_t>) return Value::integer(cfg.*member);
        else return Value::real(cfg.*member);
      },
      field);
}

// latent_temp: a list/tuple of three numbers (hydra) or the string "(2,0.5,0.999995)" (args).
std::array<double, 3> read_latent_temp(const Value& v, const std::string& key) {
  std::vector<double> x;
  if (v.is(Value::Kind::String)) {
    std::string s = v.as_string();
    for (char& c : s)
      if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') c = ' ';
    size_t pos = 0;
    try {
      while (true) {
        while (pos < s.size() && s[pos] == ' ') ++pos;
        if (pos >= s.size()) break;
        size_t used = 0;
        x.push_back(std::stod(s.substr(pos), &used));
        pos += used;
      }
    } catch (const std::exception&) {
      x.clear();
    }
  } else if (v.is(Value::Kind::List) || v.is(Value::Kind::Tuple)) {
    for (const Value& e : v.items()) x.push_back(e.as_double(key));
  }
  if (x.size() != 3) throw key_error(key, "expected (max, min, decay), got " + repr(v));
  return {x[0], x[1], x[2]};
}

std::string join(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }

// Settings of newer fairseq that change the network; each must keep the value that means
// "the plain wav2vec 2.0 architecture" the model implements.
void check_unsupported(const Value& section, const std::string& where) {
  auto must = [&](const char* key, auto ok, const char* expected) {
    const Value* v = section.find(key);
    if (v && !v->is_none() && !ok(*v))
      throw key_error(join(where, key), std::string("unsupported value ") + repr(*v) + " (w2v implements " +
                                            expected + ")");
  };
  must("layer_type", [](const Value& v) { return v.as_string() == "transformer"; }, "'transformer'");
  must("pos_conv_depth", [](const Value& v) { return v.as_int() == 1; }, "1");
  must("target_glu", [](const Value& v) { return !v.as_bool(); }, "False");
  must("quantize_input", [](const Value& v) { return !v.as_bool(); }, "False");
  must("same_quantizer", [](const Value& v) { return !v.as_bool(); }, "False");
  must("quantizer_depth", [](const Value& v) { return v.as_int() == 1; }, "1");
  must("encoder_layers_to_keep", [](const Value& v) { return v.is_none(); }, "None");
}

}  // namespace

Wav2Vec2Config read_wav2vec2_config(const Value& section, const std::string& where) {
  if (!section.find("encoder_layers") && !section.is(Value::Kind::Dict) && !section.is(Value::Kind::Object))
    throw key_error(where, "expected a model config, got " + section.type_name());
  check_unsupported(section, where);
  Wav2Vec2Config cfg;
  for (const auto& [name, field] : fields())
    if (const Value* v = section.find(name); v && !v->is_none()) read_field(cfg, field, *v, join(where, name));
  if (const Value* v = section.find("latent_temp")) cfg.latent_temp = read_latent_temp(*v, join(where, "latent_temp"));
  if (const Value* v = section.find("normalize")) cfg.normalize = v->as_bool(join(where, "normalize"));
  try {
    cfg.validate();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return cfg;
}

Value wav2vec2_config_to_dict(const Wav2Vec2Config& cfg) {
  Value d = Value::dict();
  d.set("_name", Value::string("wav2vec2"));
  for (const auto& [name, field] : fields()) d.set(name, field_value(cfg, field));
  d.set("latent_temp", Value::list({Value::real(cfg.latent_temp[0]), Value::real(cfg.latent_temp[1]),
                                    Value::real(cfg.latent_temp[2])}));
  return d;
}

CtcConfig read_ctc_config(const Value& section, const std::string& where) {
  const Value* w2v_args = section.find("w2v_args");
  if (!w2v_args || w2v_args->is_none())
    throw key_error(join(where, "w2v_args"),
                    "missing: the fine-tuned checkpoint does not embed its pre-training config (w2v_path-only "
                    "checkpoints need the pre-trained file)");
  // Hydra: w2v_args = {model: {...}, task: {...}}; argparse: a flat Namespace.
  const bool hydra = w2v_args->has("model");
  const Value& enc = hydra ? w2v_args->get("model") : *w2v_args;
  const std::string enc_where = join(where, hydra ? "w2v_args.model" : "w2v_args");
  model::Wav2Vec2Config encoder = read_wav2vec2_config(enc, enc_where);
  if (hydra) {
    if (const Value* n = w2v_args->find_path("task.normalize")) encoder.normalize = n->as_bool(join(where, "w2v_args.task.normalize"));
  }
  return finetuning_config(std::move(encoder), section, where);
}

CtcConfig finetuning_config(model::Wav2Vec2Config pretrained, const Value& section, const std::string& where) {
  CtcConfig c;
  c.encoder = std::move(pretrained);
  if (const Value* n = section.find("normalize")) c.encoder.normalize = n->as_bool(join(where, "normalize"));
  for (const auto& [from, to] : overrides()) {
    const Value* v = section.find(from);
    if (!v || v->is_none()) continue;
    for (const auto& [name, field] : fields())
      if (std::string(name) == to) read_field(c.encoder, field, *v, join(where, from));
  }
  if (const Value* v = section.find("final_dropout")) c.asr.final_dropout = v->as_double(join(where, "final_dropout"));
  if (const Value* v = section.find("apply_mask")) c.asr.apply_mask = v->as_bool(join(where, "apply_mask"));
  if (const Value* v = section.find("freeze_finetune_updates"))
    c.asr.freeze_finetune_updates = v->as_int(join(where, "freeze_finetune_updates"));
  try {
    c.encoder.validate();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return c;
}

Value ctc_config_to_dict(const CtcConfig& c) {
  Value d = Value::dict();
  d.set("_name", Value::string("wav2vec_ctc"));
  Value enc = wav2vec2_config_to_dict(c.encoder);
  for (const auto& [from, to] : overrides()) d.set(from, *enc.find(to));
  d.set("normalize", Value::boolean(c.encoder.normalize));
  d.set("final_dropout", Value::real(c.asr.final_dropout));
  d.set("apply_mask", Value::boolean(c.asr.apply_mask));
  d.set("freeze_finetune_updates", Value::integer(c.asr.freeze_finetune_updates));
  Value task = Value::dict();
  task.set("_name", Value::string("audio_pretraining"));
  task.set("normalize", Value::boolean(c.encoder.normalize));
  Value w2v_args = Value::dict();
  w2v_args.set("model", enc);
  w2v_args.set("task", task);
  d.set("w2v_args", w2v_args);
  return d;
}

}  // namespace w2v::ckpt
