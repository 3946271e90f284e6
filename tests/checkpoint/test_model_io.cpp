// Model import/export against torchaudio (live oracle tools/oracle/ckpt_models.py): fairseq
// 2020 (args, fp16, legacy file) and hydra checkpoints, HuggingFace directories, our own
// save/load round trip, and the exported files read back by torchaudio.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "checkpoint/helpers.h"
#include "checkpoint/huggingface.h"
#include "checkpoint/model_io.h"
#include "checkpoint/same_tensors.h"
#include "checkpoint/state_dict.h"
#include "checkpoint/torch_file.h"
#include "util/error.h"

namespace w2v::ckpt {
namespace {

using testing::expect_same_tensors;
using testing::run_oracle;
using testing::scratch_dir;

std::string models() { return testing::oracle_fixtures("ckpt_models.py"); }

torch::Tensor input() { return load_torch_file(models() + "/input.pt").get("source").as_tensor(); }

// The network's output as torchaudio returns it: [B, T, V] logits or [B, T, D] features.
torch::Tensor output(const LoadedModel& m) {
  m.module().eval();
  torch::NoGradGuard no_grad;
  if (m.kind == ModelKind::kCtc) return m.ctc.ptr()->forward(input()).logits.transpose(0, 1);
  return m.encoder()->extract_features(input()).x;
}

void expect_parity(const LoadedModel& m, const std::string& name) {
  Value expected = load_torch_file(models() + "/expected_" + name + ".pt");
  torch::Tensor want = expected.get("output").as_tensor();
  torch::Tensor got = output(m);
  ASSERT_EQ(got.sizes(), want.sizes()) << name;
  double err = (got - want).abs().max().item<double>();
  EXPECT_LE(err, 1e-4) << name;
  if (m.kind == ModelKind::kCtc) EXPECT_EQ(m.ctc->vocab_size(), expected.get("vocab").as_int());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelImport, Fairseq2020ArgsFp16Legacy) {
  LoadedModel m = load_model(models() + "/fairseq_ctc_args.pt");
  EXPECT_EQ(m.kind, ModelKind::kCtc);
  EXPECT_EQ(m.format, "fairseq (args)");
  EXPECT_EQ(m.config.extractor_mode, "default");
  EXPECT_FALSE(m.config.layer_norm_first);
  EXPECT_FALSE(m.config.normalize);
  EXPECT_EQ(m.config.encoder_layerdrop, 0.1);  // fine-tuning "layerdrop" overrides the encoder's
  EXPECT_EQ(m.config.mask_channel_length, 64);
  EXPECT_EQ(m.config.latent_temp[2], 0.999995);
  EXPECT_EQ(m.asr.freeze_finetune_updates, 10000);
  EXPECT_TRUE(m.asr.apply_mask);
  expect_parity(m, "fairseq_ctc_args");
  // 32 outputs and no dictionary in the file: the LibriSpeech letters.
  ASSERT_TRUE(m.dictionary.has_value());
  EXPECT_EQ(m.dictionary->size(), 32);
  EXPECT_EQ(m.dictionary->symbol(4), "|");
  EXPECT_EQ(m.dictionary->symbol(5), "E");
  EXPECT_EQ(m.dictionary->symbol(31), "Z");
  // The rest of the file stays available for resuming.
  EXPECT_FALSE(m.checkpoint.has("model"));
  EXPECT_FALSE(m.checkpoint.has("last_optimizer_state"));
  LoadOptions resume;
  resume.keep_optimizer_state = true;
  EXPECT_EQ(load_model(models() + "/fairseq_ctc_args.pt", resume).checkpoint.at("last_optimizer_state.param_groups").items().size(), 1u);
  EXPECT_EQ(m.checkpoint.get("optimizer_history").items()[0].get("num_updates").as_int(), 20000);
  EXPECT_EQ(m.checkpoint.at("extra_state.val_loss").as_double(), 3.2);
}

TEST(ModelImport, FairseqHydraLayerNormPreLn) {
  LoadedModel m = load_model(models() + "/fairseq_ctc_cfg.pt");
  EXPECT_EQ(m.format, "fairseq (cfg)");
  EXPECT_EQ(m.config.extractor_mode, "layer_norm");
  EXPECT_TRUE(m.config.layer_norm_first);
  EXPECT_TRUE(m.config.conv_bias);
  EXPECT_TRUE(m.config.normalize);
  EXPECT_EQ(m.config.encoder_layerdrop, 0.05);
  EXPECT_EQ(m.config.mask_channel_prob, 0.25);
  expect_parity(m, "fairseq_ctc_cfg");
  ASSERT_TRUE(m.dictionary.has_value());  // from task_state.target_dictionary
  EXPECT_EQ(m.dictionary->size(), 10);
  EXPECT_EQ(m.dictionary->symbol(9), "N");
  EXPECT_EQ(m.dictionary->count(9), 15);
}

TEST(ModelImport, FairseqPretraining) {
  LoadedModel m = load_model(models() + "/fairseq_pretrain.pt");
  EXPECT_EQ(m.kind, ModelKind::kPretraining);
  EXPECT_TRUE(m.config.quantize_targets);
  EXPECT_EQ(m.config.latent_vars, 8);
  EXPECT_FALSE(m.dictionary.has_value());
  expect_parity(m, "fairseq_pretrain");
}

TEST(ModelImport, HuggingFaceCtcSafetensors) {
  LoadedModel m = load_model(models() + "/hf_ctc");
  EXPECT_EQ(m.format, "huggingface");
  EXPECT_TRUE(m.config.layer_norm_first);
  EXPECT_TRUE(m.config.normalize);  // preprocessor_config.json do_normalize
  expect_parity(m, "hf_ctc");
  ASSERT_TRUE(m.dictionary.has_value());
  EXPECT_EQ(m.dictionary->symbol(0), "<s>");  // HF names row 0 "<pad>"; it is the blank
  EXPECT_EQ(m.dictionary->symbol(1), "<pad>");
  EXPECT_EQ(m.dictionary->symbol(4), "|");
  EXPECT_EQ(m.dictionary->symbol(11), "H");
}

TEST(ModelImport, HuggingFacePretrainingBin) {
  LoadedModel m = load_model(models() + "/hf_pretrain");
  EXPECT_EQ(m.kind, ModelKind::kPretraining);
  expect_parity(m, "hf_pretrain");
}

TEST(ModelImport, Fairseq2020PretrainingArgsFp16) {
  LoadedModel m = load_model(models() + "/fairseq_pretrain_args.pt");
  EXPECT_EQ(m.kind, ModelKind::kPretraining);
  EXPECT_EQ(m.format, "fairseq (args)");
  EXPECT_EQ(m.config.latent_temp[1], 0.5);
  expect_parity(m, "fairseq_pretrain_args");
  // fairseq's saved layout around the model: FP16Optimizer state (loss scale) and meters.
  LoadOptions resume;
  resume.keep_optimizer_state = true;
  Value tree = load_model(models() + "/fairseq_pretrain_args.pt", resume).checkpoint;
  EXPECT_EQ(tree.at("last_optimizer_state.loss_scale").as_double(), 128.0);
  EXPECT_EQ(tree.at("optimizer_history").items()[0].get("optimizer_name").as_string(), "FP16Optimizer");
}

// fairseq of 2020-10..2021-03 pickled cfg as an omegaconf DictConfig (cyclic through _parent
// links); it reads as the plain dicts later fairseq saves.
TEST(ModelImport, FairseqHydraDictConfig) {
  LoadedModel m = load_model(models() + "/fairseq_pretrain_dictconfig.pt");
  EXPECT_EQ(m.format, "fairseq (cfg)");
  EXPECT_EQ(m.kind, ModelKind::kPretraining);
  EXPECT_EQ(m.config.extractor_mode, "layer_norm");
  EXPECT_TRUE(m.config.layer_norm_first);
  EXPECT_TRUE(m.config.normalize);  // task.normalize, a BooleanNode
  EXPECT_EQ(m.config.latent_temp[2], 0.999995);  // a ListConfig of FloatNodes
  expect_parity(m, "fairseq_pretrain_dictconfig");
  Value tree = load_torch_file(models() + "/fairseq_pretrain_dictconfig.pt");
  EXPECT_TRUE(tree.at("cfg.task.labels").is_none());
  EXPECT_EQ(tree.at("cfg.common.log_format").as_string(), "json");
}

// The state dicts inside real files are module.state_dict() OrderedDicts carrying `_metadata`
// (module versions); they are kept as attributes and written back.
TEST(ModelImport, StateDictMetadataIsKept) {
  Value tree = load_torch_file(models() + "/fairseq_ctc_cfg.pt");
  const Dict& sd = tree.get("model").as_dict();
  EXPECT_TRUE(sd.ordered);
  ASSERT_TRUE(sd.attrs);
  const Value& meta = sd.attrs->get("_metadata");
  EXPECT_EQ(meta.get("").get("version").as_int(), 1);
  EXPECT_TRUE(meta.has("w2v_encoder.w2v_model.encoder.layers.1.fc2"));
}

TEST(ModelImport, HuggingFaceShardedSafetensorsFp16) {
  LoadedModel m = load_model(models() + "/hf_ctc_sharded_st");
  EXPECT_EQ(m.kind, ModelKind::kCtc);
  expect_parity(m, "hf_ctc_sharded_st");
  EXPECT_EQ(m.dictionary->symbol(4), "|");
}

TEST(ModelImport, HuggingFaceShardedBinFp16) {
  LoadedModel m = load_model(models() + "/hf_pretrain_sharded_bin");
  EXPECT_EQ(m.kind, ModelKind::kPretraining);
  expect_parity(m, "hf_pretrain_sharded_bin");
}

// A copy of a sharded directory with its index text edited by `edit` (and a shard removed when
// `drop` is set): the error names the index or shard and the tensor.
std::string sharded_error(const std::string& src, const std::string& index,
                          const std::function<void(std::string&)>& edit, const std::string& drop = "") {
  static int n = 0;
  const std::string dir = scratch_dir() + "/sharded_" + std::to_string(n++);
  std::filesystem::copy(models() + "/" + src, dir, std::filesystem::copy_options::recursive);
  std::ifstream in(dir + "/" + index);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  edit(text);
  std::ofstream(dir + "/" + index, std::ios::trunc) << text;
  if (!drop.empty()) std::filesystem::remove(dir + "/" + drop);
  return error_of([&] { load_model(dir); });
}

void replace_once(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

TEST(ModelImport, ShardedCheckpointErrors) {
  const std::string st = "model.safetensors.index.json", bin = "pytorch_model.bin.index.json";
  auto nothing = [](std::string&) {};
  std::string e = sharded_error("hf_ctc_sharded_st", st, nothing, "model-00002-of-00003.safetensors");
  EXPECT_NE(e.find(st + ": shard 'model-00002-of-00003.safetensors' (holding '"), std::string::npos) << e;
  EXPECT_NE(e.find("is missing"), std::string::npos) << e;

  // A tensor the index does not list, one listed under the wrong shard, one listed twice.
  const std::string lm = "\"lm_head.weight\": \"model-00003-of-00003.safetensors\",";
  e = sharded_error("hf_ctc_sharded_st", st, [&](std::string& s) { replace_once(s, lm, ""); });
  EXPECT_NE(e.find("model-00003-of-00003.safetensors: tensor 'lm_head.weight' is not mapped to this shard by"),
            std::string::npos) << e;
  EXPECT_NE(e.find("(it is not in the index)"), std::string::npos) << e;
  e = sharded_error("hf_ctc_sharded_st", st, [&](std::string& s) {
    replace_once(s, lm, "\"lm_head.weight\": \"model-00001-of-00003.safetensors\",");
  });
  EXPECT_NE(e.find("model-00003-of-00003.safetensors: tensor 'lm_head.weight' is not mapped to this shard by"),
            std::string::npos) << e;
  EXPECT_NE(e.find("(it names 'model-00001-of-00003.safetensors')"), std::string::npos) << e;
  e = sharded_error("hf_ctc_sharded_st", st, [&](std::string& s) {
    replace_once(s, lm, "\"ghost.weight\": \"model-00001-of-00003.safetensors\"," + lm);
  });
  EXPECT_NE(e.find(st + ": tensor 'ghost.weight' is mapped to shard 'model-00001-of-00003.safetensors', which does not contain it"),
            std::string::npos) << e;
  e = sharded_error("hf_ctc_sharded_st", st, [&](std::string& s) { replace_once(s, lm, lm + lm); });
  EXPECT_NE(e.find(st + ": key 'lm_head.weight' appears twice in one object"), std::string::npos) << e;
  // A shard path outside the directory is refused before anything is opened.
  e = sharded_error("hf_pretrain_sharded_bin", bin, [&](std::string& s) {
    replace_once(s, "\"pytorch_model-00001-of-00003.bin\"", "\"../pytorch_model-00001-of-00003.bin\"");
  });
  EXPECT_NE(e.find("shard '../pytorch_model-00001-of-00003.bin' is not a file name in"), std::string::npos) << e;
  // A name longer than the file system allows is an error in the index, not a filesystem_error.
  const std::string overlong(300, 'x');
  e = sharded_error("hf_pretrain_sharded_bin", bin, [&](std::string& s) {
    replace_once(s, "\"pytorch_model-00001-of-00003.bin\"", "\"" + overlong + "\"");
  });
  EXPECT_NE(e.find(bin + ": shard '" + overlong + "' (holding '"), std::string::npos) << e;
  EXPECT_NE(e.find("is missing (File name too long)"), std::string::npos) << e;
  // config.json asking for a huge network: refused before anything is allocated.
  e = sharded_error("hf_ctc_sharded_st", "config.json",
                    [&](std::string& s) { replace_once(s, "\"vocab_size\": 12", "\"vocab_size\": 1000000000000"); });
  EXPECT_NE(e.find("config.json: the configuration describes a network of at least"), std::string::npos) << e;
  e = sharded_error("hf_pretrain_sharded_bin", bin, [&](std::string& s) { s = "{\"metadata\": {}}"; });
  EXPECT_NE(e.find(bin + ": expected an object with a \"weight_map\" object"), std::string::npos) << e;
}

TEST(ModelImport, DictionaryOption) {
  const std::string good = scratch_dir() + "/dict10.txt", bad = scratch_dir() + "/dict5.txt";
  {
    std::ofstream g(good), b(bad);
    for (const char* s : {"|", "A", "B", "C", "D", "F"}) g << s << " 5\n";
    b << "| 5\n";
  }
  LoadedModel m = load_model(models() + "/fairseq_ctc_cfg.pt", {good});
  EXPECT_EQ(m.dictionary->symbol(5), "A");
  std::string e = error_of([&] { load_model(models() + "/fairseq_ctc_cfg.pt", {bad}); });
  EXPECT_NE(e.find("dictionary " + bad + " has 5 symbols but the model has 10 outputs"), std::string::npos) << e;
}

TEST(ModelImport, StateDictErrorsNameKeysAndShapes) {
  const std::string path = models() + "/fairseq_ctc_cfg.pt";
  auto tree_without = [&](const std::string& key) {
    Value t = load_torch_file(path);
    auto& items = t.get("model").as_dict().items;
    for (auto it = items.begin(); it != items.end(); ++it)
      if (it->first.as_string() == key) {
        items.erase(it);
        break;
      }
    return t;
  };
  std::string e = error_of([&] { model_from_checkpoint(tree_without("w2v_encoder.w2v_model.encoder.layers.1.fc2.bias"), "x.pt"); });
  EXPECT_NE(e.find("x.pt: 1 model tensor(s) missing from the checkpoint: w2v_encoder.w2v_model.encoder.layers.1.fc2.bias"),
            std::string::npos) << e;

  Value t = load_torch_file(path);
  Value(t.get("model")).set("w2v_encoder.w2v_model.encoder.layers.0.fc1.weight", Value::tensor(torch::zeros({3, 48})));
  e = error_of([&] { model_from_checkpoint(t, "x.pt"); });
  EXPECT_NE(e.find("w2v_encoder.w2v_model.encoder.layers.0.fc1.weight has shape [3, 48] in the file, the model needs [64, 48]"),
            std::string::npos) << e;

  t = load_torch_file(path);
  Value(t.get("model")).set("w2v_encoder.w2v_model.quantizer.vars", Value::tensor(torch::zeros({1})));
  e = error_of([&] { model_from_checkpoint(t, "x.pt"); });
  EXPECT_NE(e.find("unexpected tensor(s) in the checkpoint: w2v_encoder.w2v_model.quantizer.vars"), std::string::npos) << e;

  t = load_torch_file(path);
  Value(t.at("cfg.model.w2v_args.model")).set("layer_type", Value::string("conformer"));
  e = error_of([&] { model_from_checkpoint(t, "x.pt"); });
  EXPECT_NE(e.find("cfg.model.w2v_args.model.layer_type"), std::string::npos) << e;

  // A configuration asking for a network far larger than the weights stops before building it
  // (2^40 parameters would otherwise be allocated).
  t = load_torch_file(path);
  Value(t.at("cfg.model.w2v_args.model")).set("encoder_ffn_embed_dim", Value::integer(int64_t{1} << 40));
  e = error_of([&] { model_from_checkpoint(t, "x.pt"); });
  EXPECT_NE(e.find("x.pt: cfg.model: the configuration describes a network of at least"), std::string::npos) << e;
  EXPECT_NE(e.find("(configuration and weights do not match)"), std::string::npos) << e;

  t = load_torch_file(path);
  Value(t.at("cfg.model")).set("_name", Value::string("hubert_ctc"));
  e = error_of([&] { model_from_checkpoint(t, "x.pt"); });
  EXPECT_NE(e.find("x.pt: unsupported model 'hubert_ctc'"), std::string::npos) << e;
}

// save_model -> load_model is exact, and Python (torch.load + torchaudio with import_fairseq's
// key mapping) computes the same outputs from our file.
TEST(ModelSave, RoundTripAndPythonReadsIt) {
  for (const char* name : {"fairseq_ctc_args", "fairseq_ctc_cfg", "fairseq_pretrain", "fairseq_pretrain_args",
                           "fairseq_pretrain_dictconfig"}) {
    SCOPED_TRACE(name);
    LoadedModel m = load_model(models() + "/" + name + ".pt");
    const std::string out = scratch_dir() + "/saved_" + name + ".pt";
    Value extra = Value::dict();
    extra.set("optimizer_history", m.checkpoint.get("optimizer_history"));
    save_model(out, m, extra);
    LoadedModel back = load_model(out);
    expect_same_tensors(m, back);
    EXPECT_EQ(back.format, "fairseq (cfg)");
    EXPECT_EQ(back.config.layer_norm_first, m.config.layer_norm_first);
    EXPECT_EQ(back.config.encoder_layerdrop, m.config.encoder_layerdrop);
    EXPECT_EQ(back.config.normalize, m.config.normalize);
    EXPECT_EQ(back.asr.freeze_finetune_updates, m.asr.freeze_finetune_updates);
    EXPECT_EQ(back.dictionary.has_value(), m.dictionary.has_value());
    if (m.dictionary) EXPECT_EQ(back.dictionary->decode({4, 5, 6}), m.dictionary->decode({4, 5, 6}));
    EXPECT_TRUE(equal(back.checkpoint.get("optimizer_history"), m.checkpoint.get("optimizer_history")));
    std::string ok = run_oracle("ckpt_models.py", "check_fairseq " + out + " " + models() + "/expected_" + name + ".pt " +
                                                      models() + "/input.pt");
    EXPECT_EQ(ok.rfind("ok ", 0), 0u) << ok;
  }
}

// An exported HF directory loads in torchaudio's import_huggingface_model with the same outputs
// and imports back into identical tensors.
TEST(ModelSave, HuggingFaceExportReadByTorchaudio) {
  for (const char* name : {"fairseq_ctc_cfg", "fairseq_pretrain"}) {
    SCOPED_TRACE(name);
    LoadedModel m = load_model(models() + "/" + name + ".pt");
    const std::string dir = scratch_dir() + "/hf_" + name;
    save_huggingface(dir, m);
    LoadedModel back = load_model(dir);
    expect_same_tensors(m, back);
    EXPECT_EQ(back.config.normalize, m.config.normalize);
    if (m.dictionary) EXPECT_EQ(back.dictionary->decode({0, 1, 4, 9}), m.dictionary->decode({0, 1, 4, 9}));
    std::string ok = run_oracle("ckpt_models.py", "check_hf " + dir + " " + models() + "/expected_" + name + ".pt " +
                                                      models() + "/input.pt");
    EXPECT_EQ(ok.rfind("ok ", 0), 0u) << ok;
  }
}

}  // namespace
}  // namespace w2v::ckpt
