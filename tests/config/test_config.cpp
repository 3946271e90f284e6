#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "util/error.h"

using w2v::config::Config;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const w2v::Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kRoot = W2V_SOURCE_DIR;

}  // namespace

TEST(Config, Base100hLoadsWithFairseqValues) {
  Config c = Config::load(kRoot + "/configs/finetuning/base_100h.yaml",
                          {"task.data=/data/ls", "model.w2v_path=/m/wav2vec_small.pt"});
  EXPECT_EQ(c.choice("model"), "wav2vec_ctc");
  EXPECT_EQ(c.choice("lr_scheduler"), "tri_stage");
  EXPECT_EQ(c.integer("optimization.max_update"), 80000);
  EXPECT_EQ(c.reals("optimization.lr"), std::vector<double>{0.00003});
  EXPECT_EQ(c.integers("optimization.update_freq"), std::vector<int64_t>{4});
  EXPECT_EQ(c.reals("optimizer.adam_betas"), (std::vector<double>{0.9, 0.98}));
  EXPECT_DOUBLE_EQ(c.real("optimizer.adam_eps"), 1e-8);
  EXPECT_EQ(c.reals("lr_scheduler.phase_ratio"), (std::vector<double>{0.1, 0.4, 0.5}));
  EXPECT_DOUBLE_EQ(c.real("lr_scheduler.final_lr_scale"), 0.05);
  EXPECT_DOUBLE_EQ(c.real("lr_scheduler.init_lr_scale"), 0.01);  // fairseq default
  EXPECT_EQ(c.integer("lr_scheduler.max_update"), 80000);          // ${optimization.max_update}
  EXPECT_TRUE(c.flag("criterion.sentence_avg"));                   // ${optimization.sentence_avg}
  EXPECT_TRUE(c.flag("criterion.zero_infinity"));
  EXPECT_EQ(c.text("criterion.post_process"), "letter");
  EXPECT_EQ(c.text("task.data"), "/data/ls");
  EXPECT_EQ(c.text("model.w2v_path"), "/m/wav2vec_small.pt");
  EXPECT_DOUBLE_EQ(c.real("model.mask_channel_prob"), 0.5);
  EXPECT_EQ(c.integer("model.mask_channel_length"), 64);
  EXPECT_EQ(c.integer("model.mask_length"), 10);
  EXPECT_EQ(c.text("checkpoint.save_dir"), "checkpoints");
  EXPECT_EQ(c.text("checkpoint.best_checkpoint_metric"), "wer");
  EXPECT_EQ(c.integer("dataset.max_tokens"), 3200000);
  EXPECT_EQ(c.integer("dataset.max_tokens_valid"), 3200000);
  EXPECT_EQ(c.integer("distributed_training.distributed_world_size"), 2);
  EXPECT_FALSE(c.is_set("dataset.batch_size"));
  EXPECT_EQ(c.text("checkpoint.checkpoint_suffix"), "");
  // fp16, skip_invalid_size_inputs_valid_test and ddp_backend are set by the file and have no
  // effect here: one warning each, in file order.
  ASSERT_EQ(c.warnings().size(), 3u);
  EXPECT_NE(c.warnings()[0].find("common.fp16"), std::string::npos);
  EXPECT_NE(c.warnings()[1].find("dataset.skip_invalid_size_inputs_valid_test"), std::string::npos);
  EXPECT_NE(c.warnings()[2].find("distributed_training.ddp_backend"), std::string::npos);
}

TEST(Config, EveryShippedConfigLoads) {
  int n = 0;
  for (const char* dir : {"/configs/pretraining", "/configs/finetuning"}) {
    for (const auto& f : std::filesystem::directory_iterator(kRoot + dir)) {
      std::vector<std::string> o{"task.data=/d"};
      if (std::string(dir).find("finetuning") != std::string::npos)
        o.push_back("model.w2v_path=/m.pt");
      Config c = Config::load(f.path().string(), o);
      EXPECT_GT(c.integer("optimization.max_update"), 0) << f.path();
      EXPECT_EQ(c.reals("optimizer.adam_betas").size(), 2u) << f.path();
      ++n;
    }
  }
  EXPECT_EQ(n, 12);
  Config large = Config::load(kRoot + "/configs/pretraining/wav2vec2_large_librivox.yaml");
  EXPECT_EQ(large.reals("model.latent_temp"), (std::vector<double>{2.0, 0.1, 0.999995}));
  EXPECT_EQ(large.reals("criterion.loss_weights"), (std::vector<double>{0.1, 0}));
  EXPECT_EQ(large.texts("criterion.log_keys"),
            (std::vector<std::string>{"prob_perplexity", "code_perplexity", "temp"}));
  EXPECT_EQ(large.text("model.extractor_mode"), "layer_norm");
  EXPECT_DOUBLE_EQ(large.real("lr_scheduler.total_num_update"), 1000000);
  Config base = Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml");
  EXPECT_EQ(base.reals("model.latent_temp"), (std::vector<double>{2.0, 0.5, 0.999995}));
  EXPECT_EQ(base.integer("model.encoder_layers"), 12);
}

TEST(Config, OverridesParseAsYaml) {
  Config c = Config::load(kRoot + "/configs/finetuning/base_100h.yaml",
                          {"optimization.lr=[0.0001]", "optimizer.adam_betas=(0.9,0.999)",
                           "+common.seed=7", "model.mask_prob=0.3", "optimization.max_update=12",
                           "dataset.batch_size=null", "model.w2v_path=a b.pt",
                           "common.log_format=json"});
  EXPECT_EQ(c.reals("optimization.lr"), std::vector<double>{0.0001});
  EXPECT_EQ(c.reals("optimizer.adam_betas"), (std::vector<double>{0.9, 0.999}));
  EXPECT_EQ(c.integer("common.seed"), 7);
  EXPECT_DOUBLE_EQ(c.real("model.mask_prob"), 0.3);
  EXPECT_EQ(c.integer("lr_scheduler.max_update"), 12);
  EXPECT_EQ(c.text("model.w2v_path"), "a b.pt");
  // A required key left at ??? names itself.
  std::string e = error_of([&] { c.text("task.data"); });
  EXPECT_NE(e.find("task.data"), std::string::npos) << e;
  EXPECT_NE(e.find("required"), std::string::npos) << e;
}

TEST(Config, UnknownKeysAreErrorsWithSuggestion) {
  const std::string f = kRoot + "/configs/finetuning/base_100h.yaml";
  std::string e = error_of([&] { Config::load(f, {"optimization.max_updat=5"}); });
  EXPECT_NE(e.find("unknown key 'optimization.max_updat'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'optimization.max_update'"), std::string::npos) << e;
  e = error_of([&] { Config::parse("model:\n  _name: wav2vec2\n  encoder_layer: 3\n", "x.yaml"); });
  EXPECT_NE(e.find("x.yaml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'model.encoder_layers'"), std::string::npos) << e;
  e = error_of([&] { Config::parse("optimisation:\n  lr: [1]\n", "x.yaml"); });
  EXPECT_NE(e.find("did you mean 'optimization'"), std::string::npos) << e;
  e = error_of([&] { Config::load(f, {"optimization.max_update=abc"}); });
  EXPECT_NE(e.find("expects an integer"), std::string::npos) << e;
  e = error_of([&] { Config::load(f, {"model._name=hubert"}); });
  EXPECT_NE(e.find("wav2vec2, wav2vec_ctc"), std::string::npos) << e;
  e = error_of([&] { Config::parse("model:\n  _name: wav2vec2\n  w2v_path: x\n", "x.yaml"); });
  EXPECT_NE(e.find("does not apply to model._name=wav2vec2"), std::string::npos) << e;
  e = error_of([&] { Config::load(f, {"seed=3"}); });
  EXPECT_NE(e.find("needs its section"), std::string::npos) << e;
  e = error_of([&] { Config::parse("model: [\n", "bad.yaml"); });
  EXPECT_NE(e.find("bad.yaml:"), std::string::npos) << e;
}

TEST(Config, TreeRoundTrips) {
  Config a = Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml",
                          {"task.data=/x", "optimization.lr=[0.001]"});
  Config b = Config::parse(a.to_yaml(), "roundtrip");
  EXPECT_EQ(b.reals("optimization.lr"), std::vector<double>{0.001});
  EXPECT_EQ(b.reals("optimizer.adam_betas"), (std::vector<double>{0.9, 0.98}));
  EXPECT_EQ(b.integer("lr_scheduler.warmup_updates"), 32000);
  EXPECT_DOUBLE_EQ(b.real("lr_scheduler.total_num_update"), 400000);
  EXPECT_EQ(b.text("task.data"), "/x");
  EXPECT_EQ(b.choice("criterion"), "wav2vec");
}

// Regression: a directory given as the config was read as an empty file (all defaults).
TEST(Config, DirectoryAsConfigIsAnErrorNamingIt) {
  const std::string dir = kRoot + "/configs";
  const std::string e = error_of([&] { Config::load(dir); });
  EXPECT_EQ(e, dir + ": is a directory, expected a file");
}

// Regression (fuzz_config): a key that is a list or mapping ("? [a]") escaped as yaml-cpp's
// TypedBadConversion, i.e. "internal error" instead of a line naming the file.
TEST(Config, ComplexKeyIsAnErrorNamingTheLine) {
  for (const std::string yaml : {"common:\n  ? [a, b]\n  : 1\n", "? {x: 1}\n: {seed: 1}\n"}) {
    const std::string e = error_of([&] { Config::parse(yaml, "c.yaml"); });
    EXPECT_NE(e.find("c.yaml:"), std::string::npos) << e;
    EXPECT_NE(e.find("expected a plain key"), std::string::npos) << e;
  }
}

// An interpolation may bring a value of another type than the key's: the getter names the key
// (it was yaml-cpp's "bad conversion").
TEST(Config, InterpolatedValueOfWrongTypeNamesTheKey) {
  const Config c = Config::parse("optimization:\n  max_update: ${checkpoint.save_dir}\n", "c.yaml");
  const std::string e = error_of([&] { c.integer("optimization.max_update"); });
  EXPECT_NE(e.find("optimization.max_update"), std::string::npos) << e;
  EXPECT_NE(e.find("expects an integer"), std::string::npos) << e;
}

// A hostile, kilobytes-long unknown key gets no edit-distance suggestion (quadratic time).
TEST(Config, LongUnknownKeyIsRejectedWithoutSuggestion) {
  const std::string key = "optimization." + std::string(5000, 'x');
  const std::string e = error_of([&] { Config::parse("", "c.yaml", {key + "=1"}); });
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e.substr(0, 200);
  EXPECT_EQ(e.find("did you mean"), std::string::npos) << e.substr(0, 200);
  const std::string near = error_of([&] { Config::parse("", "c.yaml", {"optimization.max_updat=1"}); });
  EXPECT_NE(near.find("did you mean 'optimization.max_update'"), std::string::npos) << near;
}
