// Numeric settings are range-checked up front, naming the key (issue 13: num_negatives=0,
// dataset.max_tokens=-5, distributed_world_size=0, mask_prob=1.5 used to run or crash).
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "config/schema.h"
#include "util/error.h"

using w2v::config::Config;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = W2V_SOURCE_DIR;
const std::string kPretrain = kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml";
const std::string kFinetune = kRoot + "/configs/finetuning/base_100h.yaml";

std::string range_error(const std::string& config, const std::vector<std::string>& overrides) {
  std::vector<std::string> o{"task.data=/d", "model.w2v_path=/m.pt"};
  if (config == kPretrain) o.pop_back();
  o.insert(o.end(), overrides.begin(), overrides.end());
  try {
    w2v::config::check_ranges(Config::load(config, o));
  } catch (const w2v::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Ranges, EveryNumericKeyInUseHasARange) {
  for (const auto& k : w2v::config::schema()) {
    if (k.type == w2v::config::Type::Bool || k.type == w2v::config::Type::String ||
        k.type == w2v::config::Type::StringList || !k.ignored_because.empty())
      continue;
    EXPECT_NE(w2v::config::range_of(k.section + "." + k.key), nullptr) << k.section << "." << k.key;
  }
}

TEST(Ranges, EveryShippedConfigIsInRange) {
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(kRoot + "/configs")) {
    if (e.path().extension() != ".yaml") continue;
    const std::string p = e.path().string();
    EXPECT_NO_THROW(w2v::config::check_ranges(Config::load(p, {"task.data=/d"}))) << p;
    ++checked;
  }
  EXPECT_GT(checked, 3);
}

TEST(Ranges, OutOfRangeValuesNameTheKey) {
  struct Case {
    std::string config, override_, key, says;
  };
  const std::vector<Case> cases{
      {kPretrain, "model.num_negatives=0", "model.num_negatives", "must be in [1, 65536], got 0"},
      {kPretrain, "dataset.max_tokens=-5", "dataset.max_tokens", "got -5"},
      {kPretrain, "distributed_training.distributed_world_size=0", "distributed_training.distributed_world_size", "got 0"},
      {kPretrain, "model.mask_prob=1.5", "model.mask_prob", "must be in [0, 1], got 1.5"},
      {kFinetune, "model.mask_prob=1.5", "model.mask_prob", "got 1.5"},
      {kPretrain, "optimization.update_freq=[]", "optimization.update_freq", "expects 1 or more values, got 0"},
      {kPretrain, "optimization.update_freq=[0]", "optimization.update_freq", "element 0 must be in [1"},
      {kPretrain, "optimization.update_freq=[2,-1]", "optimization.update_freq", "element 1 must be in [1"},
      {kPretrain, "optimization.lr=[]", "optimization.lr", "expects 1 or more values"},
      {kPretrain, "checkpoint.save_interval=0", "checkpoint.save_interval", "got 0"},
      {kPretrain, "dataset.validate_interval=0", "dataset.validate_interval", "got 0"},
      {kPretrain, "optimizer.adam_betas=[0.9, 1.5]", "optimizer.adam_betas", "element 1 must be in [0, 1]"},
      {kPretrain, "model.encoder_embed_dim=1000000000", "model.encoder_embed_dim", "got 1e+09"},
      {kPretrain, "model.logit_temp=0", "model.logit_temp", "must be in (0, inf], got 0"},
      {kPretrain, "optimization.clip_norm=.nan", "optimization.clip_norm", "must be a finite number"},
      {kPretrain, "criterion.loss_weights=[0.1, -1]", "criterion.loss_weights", "element 1"},
      {kPretrain, "distributed_training.distributed_port=70000", "distributed_training.distributed_port", "got 70000"},
      {kFinetune, "lr_scheduler.phase_ratio=[0.5, 0.5]", "lr_scheduler.phase_ratio", "expects 3 values, got 2"},
      {kFinetune, "model.layerdrop=-0.1", "model.layerdrop", "got -0.1"},
  };
  for (const auto& c : cases) {
    const std::string e = range_error(c.config, {c.override_});
    EXPECT_NE(e.find("'" + c.key + "'"), std::string::npos) << c.override_ << " -> " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.override_ << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  // In-range edge values pass; a key of the other model kind is not checked.
  EXPECT_EQ(range_error(kPretrain, {"model.mask_prob=1", "optimization.update_freq=[1, 3]", "checkpoint.patience=-1"}),
            "(no error)");
}
