#include "checkpoint/fairseq_config.h"

#include <fmt/format.h>

#include "util/error.h"

namespace w2v::ckpt {

namespace {

using model::Wav2Vec2Config;

// latent_temp: a list/tuple of three numbers (hydra) or the string "(2,0.5,0.999995)" (args).
LatentTemp read_latent_temp(const Value& v, const std::string& key) {
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

// One field of the model table from a checkpoint's value, by the member's type.
void read_value(std::string& out, const Value& v, const std::string& key) { out = v.as_string(key); }
void read_value(bool& out, const Value& v, const std::string& key) { out = v.as_bool(key); }
void read_value(int64_t& out, const Value& v, const std::string& key) { out = v.as_int(key); }
void read_value(double& out, const Value& v, const std::string& key) { out = v.as_double(key); }
void read_value(LatentTemp& out, const Value& v, const std::string& key) { out = read_latent_temp(v, key); }

Value to_value(const std::string& v) { return Value::string(v); }
Value to_value(bool v) { return Value::boolean(v); }
Value to_value(int64_t v) { return Value::integer(v); }
Value to_value(double v) { return Value::real(v); }
Value to_value(const LatentTemp& v) { return Value::list({Value::real(v[0]), Value::real(v[1]), Value::real(v[2])}); }

// The value as Python prints it, for "w2v implements ..." messages.
std::string python_repr(const std::string& v) { return "'" + v + "'"; }
std::string python_repr(bool v) { return v ? "True" : "False"; }
std::string python_repr(int64_t v) { return std::to_string(v); }

std::string join(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }

// Settings of newer fairseq that change the network (the table's fixed fields); each must keep
// the value that means "the plain wav2vec 2.0 architecture" the model implements.
void check_unsupported(const Value& section, const std::string& where) {
  auto must = [&](const char* key, const auto& expected) {
    const Value* v = section.find(key);
    if (!v || v->is_none()) return;
    std::decay_t<decltype(expected)> got;
    read_value(got, *v, join(where, key));
    if (got != expected)
      throw key_error(join(where, key), std::string("unsupported value ") + repr(*v) + " (w2v implements " +
                                            python_repr(expected) + ")");
  };
#define W2V_CHECK(type, name, value) must(#name, type(value));
  W2V_WAV2VEC2_FIXED_FIELDS(W2V_CHECK)
#undef W2V_CHECK
  if (const Value* v = section.find("encoder_layers_to_keep"); v && !v->is_none())
    throw key_error(join(where, "encoder_layers_to_keep"),
                    "unsupported value " + repr(*v) + " (w2v implements None)");
}

}  // namespace

Wav2Vec2Config read_wav2vec2_config(const Value& section, const std::string& where) {
  if (!section.find("encoder_layers") && !section.is(Value::Kind::Dict) && !section.is(Value::Kind::Object))
    throw key_error(where, "expected a model config, got " + section.type_name());
  check_unsupported(section, where);
  Wav2Vec2Config cfg;
  auto read = [&](auto& member, const char* name) {
    if (const Value* v = section.find(name); v && !v->is_none()) read_value(member, *v, join(where, name));
  };
#define W2V_READ(type, name, default_value, hf_name, hf_default) read(cfg.name, #name);
  W2V_WAV2VEC2_FIELDS(W2V_READ)
#undef W2V_READ
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
#define W2V_WRITE(type, name, default_value, hf_name, hf_default) d.set(#name, to_value(cfg.name));
  W2V_WAV2VEC2_FIELDS(W2V_WRITE)
#undef W2V_WRITE
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
  auto override = [&](auto& member, const char* name) {
    if (const Value* v = section.find(name); v && !v->is_none()) read_value(member, *v, join(where, name));
  };
#define W2V_OVERRIDE(name, default_value, member) override(c.encoder.member, #name);
  W2V_FINETUNING_OVERRIDES(W2V_OVERRIDE)
#undef W2V_OVERRIDE
  if (const Value* v = section.find("final_dropout")) c.asr.final_dropout = v->as_double(join(where, "final_dropout"));
  if (const Value* v = section.find("apply_mask")) c.asr.apply_mask = v->as_bool(join(where, "apply_mask"));
  if (const Value* v = section.find("freeze_finetune_updates"))
    c.asr.freeze_finetune_updates = v->as_int(join(where, "freeze_finetune_updates"));
  if (const Value* v = section.find("blank_weight")) c.asr.blank_weight = v->as_double(join(where, "blank_weight"));
  if (const Value* v = section.find("blank_mode")) c.asr.blank_mode = v->as_string(join(where, "blank_mode"));
  if (c.asr.blank_mode != "add" && c.asr.blank_mode != "set")
    throw key_error(join(where, "blank_mode"), "expected add or set, got '" + c.asr.blank_mode + "'");
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
#define W2V_WRITE(name, default_value, member) d.set(#name, to_value(c.encoder.member));
  W2V_FINETUNING_OVERRIDES(W2V_WRITE)
#undef W2V_WRITE
  d.set("normalize", Value::boolean(c.encoder.normalize));
  d.set("final_dropout", Value::real(c.asr.final_dropout));
  d.set("apply_mask", Value::boolean(c.asr.apply_mask));
  d.set("freeze_finetune_updates", Value::integer(c.asr.freeze_finetune_updates));
  d.set("blank_weight", Value::real(c.asr.blank_weight));
  d.set("blank_mode", Value::string(c.asr.blank_mode));
  Value task = Value::dict();
  task.set("_name", Value::string("audio_pretraining"));
  task.set("normalize", Value::boolean(c.encoder.normalize));
  Value w2v_args = Value::dict();
  w2v_args.set("model", wav2vec2_config_to_dict(c.encoder));
  w2v_args.set("task", task);
  d.set("w2v_args", w2v_args);
  return d;
}

}  // namespace w2v::ckpt
