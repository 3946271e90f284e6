#include "checkpoint/model_io.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "checkpoint/huggingface.h"
#include "checkpoint/state_dict.h"
#include "checkpoint/torch_file.h"
#include "util/error.h"

namespace w2v::ckpt {

namespace {

// A dictionary stored as {"symbols": [...], "count": [...]} (ours, and the attribute dict of a
// pickled fairseq Dictionary in task_state.target_dictionary).
data::Dictionary dictionary_from(const Value& v, const std::string& where) {
  const List& symbols = v.get("symbols").items(where + ".symbols");
  const Value* counts = v.find("count");
  static const char* kSpecial[] = {"<s>", "<pad>", "</s>", "<unk>"};
  data::Dictionary d;
  for (size_t i = 0; i < symbols.size(); ++i) {
    const std::string& s = symbols[i].as_string(where + ".symbols");
    if (i < 4) {
      if (s != kSpecial[i])
        throw Error(fmt::format("{}: symbol {} is '{}', expected '{}' (fairseq dictionaries start with <s> <pad> </s> <unk>)",
                                where, i, s, kSpecial[i]));
      continue;
    }
    int64_t count = counts && i < counts->items().size() ? counts->items()[i].as_int(where + ".count") : 0;
    if (d.add(s, count) != static_cast<int64_t>(i)) throw Error(where + ": duplicate symbol '" + s + "'");
  }
  return d;
}

Value dictionary_to(const data::Dictionary& d) {
  Value v = Value::dict();
  List symbols, counts;
  for (int64_t i = 0; i < d.size(); ++i) {
    symbols.push_back(Value::string(d.symbol(i)));
    counts.push_back(Value::integer(d.count(i)));
  }
  v.set("symbols", Value::list(std::move(symbols)));
  v.set("count", Value::list(std::move(counts)));
  return v;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

torch::nn::Module& LoadedModel::module() const {
  if (kind == ModelKind::kCtc) return *ctc.ptr();
  return *pretraining.ptr();
}

model::Wav2Vec2Model LoadedModel::encoder() const {
  return kind == ModelKind::kCtc ? ctc->w2v_encoder->w2v_model : pretraining;
}

data::Dictionary librispeech_letters() {
  data::Dictionary d;
  for (const char* s : {"|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U", "M",
                        "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"})
    d.add(s, 0);
  return d;
}

namespace {

// Sets m.dictionary: --dict wins, then the one found in the file, then the LibriSpeech letters
// for 32-output models; its size must equal the number of outputs.
void attach_dictionary(LoadedModel& m, std::optional<data::Dictionary> found, const std::string& where,
                       const LoadOptions& options) {
  if (m.kind != ModelKind::kCtc) return;
  if (!options.dict_path.empty()) found = data::Dictionary::load(options.dict_path);
  const int64_t rows = m.ctc->vocab_size();
  if (!found && rows == 32) found = librispeech_letters();
  if (found && found->size() != rows)
    throw Error(fmt::format("{}: the dictionary{} has {} symbols but the model has {} outputs", where,
                            options.dict_path.empty() ? "" : " " + options.dict_path, found->size(), rows));
  m.dictionary = std::move(found);
}

}  // namespace

void check_config_fits_weights(const model::Wav2Vec2Config& c, int64_t ctc_outputs, bool pretraining,
                               const Value& state_dict, const std::string& where) {
  // In doubles: the configured sizes are whatever the file says.
  auto pos = [](int64_t x) { return static_cast<double>(std::max<int64_t>(x, 0)); };
  double need = 0, in = 1;
  for (const auto& l : c.conv_layers()) {
    need += pos(l.dim) * in * pos(l.kernel);
    in = pos(l.dim);
  }
  const double d = pos(c.encoder_embed_dim);
  need += d * (d / std::max<double>(1, pos(c.conv_pos_groups))) * pos(c.conv_pos);
  need += pos(c.encoder_layers) * (4 * d * d + 2 * d * pos(c.encoder_ffn_embed_dim));
  need += d * pos(ctc_outputs);
  if (pretraining && c.quantize_targets) need += pos(c.latent_vars) * pos(c.vq_dim());
  // Values actually stored: each storage once, whatever views (expanded, stride 0) claim.
  double have = 0;
  std::unordered_set<const void*> storages;
  if (state_dict.is(Value::Kind::Dict))
    for (const auto& [k, t] : state_dict.as_dict().items)
      if (t.is(Value::Kind::Tensor) && storages.insert(t.as_tensor().storage().data()).second)
        have += static_cast<double>(t.as_tensor().storage().nbytes()) / static_cast<double>(t.as_tensor().element_size());
  if (need > have)
    throw Error(fmt::format("{}: the configuration describes a network of at least {:.0f} parameters but the "
                            "weights hold {:.0f} values (configuration and weights do not match)",
                            where, need, have));
}

LoadedModel model_from_checkpoint(Value tree, const std::string& where, const LoadOptions& options) {
  if (!tree.is(Value::Kind::Dict)) throw Error(where + ": expected a checkpoint dict, got " + tree.type_name());
  const Value* sd = tree.find("model");
  if (!sd || !sd->is(Value::Kind::Dict))
    throw Error(where + ": no 'model' state dict: not a fairseq/w2v checkpoint");
  LoadedModel m;
  const Value* cfg = tree.find("cfg");
  const Value* args = tree.find("args");
  const Value* section = nullptr;
  const Value* task = nullptr;
  std::string name, sec_where;
  try {
    if (cfg && !cfg->is_none()) {
      section = &tree.at("cfg.model");
      sec_where = "cfg.model";
      name = section->at("_name").as_string(sec_where + "._name");
      task = cfg->find("task");
      m.format = "fairseq (cfg)";
    } else if (args && !args->is_none()) {
      section = args;
      sec_where = "args";
      name = tree.at("args.arch").as_string("args.arch");
      task = args;
      m.format = "fairseq (args)";
    } else {
      throw Error("neither 'cfg' nor 'args' holds the model configuration");
    }
    if (name == "wav2vec2") {
      m.kind = ModelKind::kPretraining;
      m.config = read_wav2vec2_config(*section, sec_where);
      if (task && task->find("normalize")) m.config.normalize = task->get("normalize").as_bool("cfg.task.normalize");
      check_config_fits_weights(m.config, 0, true, *sd, sec_where);
      m.pretraining = model::Wav2Vec2Model(m.config, /*with_pretraining_heads=*/true);
    } else if (name == "wav2vec_ctc") {
      m.kind = ModelKind::kCtc;
      CtcConfig c = read_ctc_config(*section, sec_where);
      m.config = c.encoder;
      m.asr = c.asr;
      const Value* proj = sd->find("w2v_encoder.proj.weight");
      if (!proj) throw Error("fine-tuned checkpoint without w2v_encoder.proj.weight");
      const int64_t outputs = proj->as_tensor("w2v_encoder.proj.weight").size(0);
      check_config_fits_weights(m.config, outputs, false, *sd, sec_where);
      m.ctc = model::Wav2VecCtc(m.config, outputs, m.asr);
    } else {
      throw Error("unsupported model '" + name + "' (w2v reads wav2vec2 and wav2vec_ctc)");
    }
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  load_state_dict(m.module(), normalize_weight_norm(*sd, where), where);

  std::optional<data::Dictionary> dict;
  if (const Value* d = tree.find("dictionary")) dict = dictionary_from(*d, where + ": dictionary");
  else if (const Value* t = tree.find_path("task_state.target_dictionary"))
    dict = dictionary_from(*t, where + ": task_state.target_dictionary");
  attach_dictionary(m, std::move(dict), where, options);

  auto& items = tree.as_dict().items;
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const auto& kv) {
                               if (!kv.first.is(Value::Kind::String)) return false;
                               const std::string& k = kv.first.as_string();
                               return k == "model" || (k == "last_optimizer_state" && !options.keep_optimizer_state);
                             }),
              items.end());
  m.checkpoint = std::move(tree);
  return m;
}

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
  if (is_directory(path)) {
    LoadedModel m = load_huggingface(path);
    attach_dictionary(m, m.dictionary, path, options);
    return m;
  }
  return model_from_checkpoint(load_torch_file(path), path, options);
}

Value checkpoint_tree(const LoadedModel& m, const Value& extra) {
  Value cfg = Value::dict();
  Value task = Value::dict();
  if (m.kind == ModelKind::kCtc) {
    cfg.set("model", ctc_config_to_dict(m.ctc_config()));
    task.set("_name", Value::string("audio_finetuning"));
    task.set("labels", Value::string("ltr"));
  } else {
    cfg.set("model", wav2vec2_config_to_dict(m.config));
    task.set("_name", Value::string("audio_pretraining"));
  }
  task.set("normalize", Value::boolean(m.config.normalize));
  cfg.set("task", task);

  Value sd = state_dict(m.module());
  for (auto& [k, t] : sd.as_dict().items) t = Value::tensor(t.as_tensor().to(torch::kCPU));

  Value tree = Value::dict();
  tree.set("args", Value());
  tree.set("cfg", cfg);
  tree.set("model", sd);
  tree.set("optimizer_history", Value::list());
  tree.set("extra_state", Value::dict());
  if (m.dictionary) tree.set("dictionary", dictionary_to(*m.dictionary));
  if (!extra.is_none()) {
    for (const auto& [k, v] : extra.as_dict("extra checkpoint entries").items) {
      const std::string& key = k.as_string("extra checkpoint key");
      if (key == "cfg") {
        // Other sections are taken as given; in model/task our entries win (they describe the
        // network actually saved), extra keys such as task.data are kept.
        for (const auto& [sk, sv] : v.as_dict("extra cfg").items) {
          const std::string& section = sk.as_string("cfg section");
          const Value* ours = cfg.find(section);
          if (!ours || !sv.is(Value::Kind::Dict)) {
            if (!ours) cfg.set(section, sv);
            continue;
          }
          Value merged = *ours;  // aliases our section's dict
          for (const auto& [fk, fv] : sv.as_dict().items)
            if (!merged.has(fk.as_string("cfg key"))) merged.set(fk.as_string(), fv);
        }
      } else if (key == "model") {
        throw key_error("model", "the state dict comes from the module; it cannot be given as an extra entry");
      } else {
        tree.set(key, v);
      }
    }
  }
  return tree;
}

void save_model(const std::string& path, const LoadedModel& m, const Value& extra) {
  save_torch_file(path, checkpoint_tree(m, extra));
}

}  // namespace w2v::ckpt
