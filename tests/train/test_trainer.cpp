// End-to-end training runs on a tiny generated corpus: pre-training a tiny wav2vec2, CTC
// fine-tuning from it with the published base_100h config, and exact resume.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/config.h"
#include "train/distributed.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;
using nlohmann::json;
using w2v::config::Config;

namespace {

const std::string kRoot = W2V_SOURCE_DIR;

void write_wav(const std::string& path, const std::vector<float>& x) {
  std::string d;
  auto u32 = [&](uint32_t v) { d.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { d.append(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t bytes = static_cast<uint32_t>(x.size() * 2);
  d += "RIFF";
  u32(36 + bytes);
  d += "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(16000), u32(32000), u16(2), u16(16);
  d += "data";
  u32(bytes);
  for (float v : x) u16(static_cast<uint16_t>(static_cast<int16_t>(std::lround(v * 32767.0f))));
  w2v::write_file_atomic(path, d);
}

// A corpus of letter "words": each letter is a tone of its own pitch, 1000 samples long.
std::string make_corpus(const std::string& name, size_t n_train = 10) {
  const std::string dir = ::testing::TempDir() + "w2v_train_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> words{"AB", "BA", "CAB", "ABC", "CC", "BCA", "AAB", "CBA", "BB", "ACB"};
  auto write_split = [&](const std::string& split, size_t first, size_t count) {
    std::string tsv = dir + "\n", ltr;
    for (size_t i = 0; i < count; ++i) {
      const std::string& w = words[(first + i) % words.size()];
      std::vector<float> x;
      for (char c : w)
        for (int n = 0; n < 1000; ++n)
          x.push_back(0.5f * std::sin(2 * M_PI * (300.0 + 250.0 * (c - 'A')) * n / 16000.0) +
                      0.01f * std::sin(0.37 * (n + 13 * i)));
      x.resize(x.size() + 600, 0.001f);
      const std::string f = split + std::to_string(i) + ".wav";
      write_wav(dir + "/" + f, x);
      tsv += f + "\t" + std::to_string(x.size()) + "\n";
      for (char c : w) ltr += std::string(1, c) + " ";
      ltr += "|\n";
    }
    w2v::write_file_atomic(dir + "/" + split + ".tsv", tsv);
    w2v::write_file_atomic(dir + "/" + split + ".ltr", ltr);
  };
  write_split("train", 0, n_train);
  write_split("valid", 3, 4);
  w2v::write_file_atomic(dir + "/dict.ltr.txt", "| 30\nA 20\nB 20\nC 20\n");
  return dir;
}

const std::vector<std::string> kTinyModel{
    "model.conv_feature_layers='[(32, 10, 5)] + [(32, 8, 4)] + [(32, 4, 2)] * 2'",
    "model.extractor_mode=layer_norm", "model.conv_bias=true", "model.encoder_layers=2",
    "model.encoder_embed_dim=32", "model.encoder_ffn_embed_dim=64", "model.encoder_attention_heads=2",
    "model.conv_pos=16", "model.conv_pos_groups=4", "model.final_dim=16", "model.latent_vars=8",
    "model.num_negatives=5", "model.mask_length=4"};

std::vector<std::string> pretrain_overrides(const std::string& data, const std::string& save_dir,
                                            int max_update) {
  std::vector<std::string> o = kTinyModel;
  for (const std::string& s : std::vector<std::string>{
           "task.data=" + data, "checkpoint.save_dir=" + save_dir, "task.min_sample_size=1000",
        "dataset.max_tokens=16000", "dataset.required_batch_size_multiple=1", "dataset.num_workers=1",
        "distributed_training.distributed_world_size=1", "optimization.max_update=" + std::to_string(max_update),
        "lr_scheduler.warmup_updates=2", "lr_scheduler.total_num_update=6", "common.log_interval=1"})
    o.push_back(s);
  return o;
}

// Runs a training and returns its log lines (also kept beside the checkpoints for inspection).
std::vector<json> run(const Config& cfg) {
  std::ostringstream out;
  w2v::train::Trainer trainer(cfg, out);
  trainer.train();
  w2v::write_file_atomic(cfg.text("checkpoint.save_dir") + "/train_log.jsonl", out.str());
  std::vector<json> lines;
  std::istringstream in(out.str());
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  return lines;
}

std::vector<json> tagged(const std::vector<json>& lines, const std::string& tag) {
  std::vector<json> out;
  for (const auto& l : lines)
    if (l.value("tag", "") == tag) out.push_back(l);
  return out;
}

class Trainer : public ::testing::Test {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

}  // namespace

TEST_F(Trainer, PretrainsTinyModelAndResumesExactly) {
  const std::string data = make_corpus("pt");
  const std::string cfg_path = kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml";
  // Uninterrupted: 5 updates (3 batches per epoch -> crosses an epoch boundary).
  auto full = run(Config::load(cfg_path, pretrain_overrides(data, data + "/full", 5)));
  auto inner = tagged(full, "train_inner");
  ASSERT_EQ(inner.size(), 5u);
  for (const auto& l : inner) {
    EXPECT_TRUE(std::isfinite(l["loss"].get<double>())) << l;
    EXPECT_GT(l["prob_perplexity"].get<double>(), 0) << l;
    EXPECT_GE(l["accuracy"].get<double>(), 0) << l;
    EXPECT_TRUE(l.contains("loss_0") && l.contains("loss_1") && l.contains("temp") && l.contains("gnorm")) << l;
  }
  // Temperature follows max(2 * 0.999995^n, 0.5) of the update count n before the step.
  EXPECT_NEAR(inner[3]["temp"].get<double>(), 2 * std::pow(0.999995, 3), 1e-9);
  // Warmup 2, total 6: lr after update n is 5e-4 * min(n/2, (6-n)/4).
  EXPECT_NEAR(inner[0]["lr"].get<double>(), 2.5e-4, 1e-12);
  EXPECT_NEAR(inner[4]["lr"].get<double>(), 5e-4 * 0.25, 1e-12);
  EXPECT_FALSE(tagged(full, "valid").empty());
  EXPECT_TRUE(fs::exists(data + "/full/checkpoint_last.pt"));
  EXPECT_TRUE(fs::exists(data + "/full/checkpoint_best.pt"));

  // Interrupted after 2 updates (mid-epoch), then resumed to 5 from checkpoint_last.pt.
  run(Config::load(cfg_path, pretrain_overrides(data, data + "/resumed", 2)));
  auto resumed = run(Config::load(cfg_path, pretrain_overrides(data, data + "/resumed", 5)));
  ASSERT_TRUE(resumed.size() > 2 && resumed[2].contains("resumed")) << resumed[2];
  EXPECT_EQ(resumed[2]["num_updates"], 2);
  EXPECT_EQ(resumed[2]["iterations_in_epoch"], 2);
  auto inner2 = tagged(resumed, "train_inner");
  ASSERT_EQ(inner2.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(inner2[i]["num_updates"], inner[i + 2]["num_updates"]);
    EXPECT_NEAR(inner2[i]["loss"].get<double>(), inner[i + 2]["loss"].get<double>(), 1e-6) << i;
    EXPECT_NEAR(inner2[i]["gnorm"].get<double>(), inner[i + 2]["gnorm"].get<double>(), 1e-6) << i;
  }
}

TEST_F(Trainer, FineTunesWithTheBase100hConfig) {
  const std::string data = make_corpus("ft");
  const std::string pt_cfg = kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml";
  run(Config::load(pt_cfg, pretrain_overrides(data, data + "/pt", 1)));
  std::vector<std::string> o{"task.data=" + data,
                             "model.w2v_path=" + data + "/pt/checkpoint_last.pt",
                             "checkpoint.save_dir=" + data + "/ft",
                             "distributed_training.distributed_world_size=1",
                             "optimization.update_freq=[2]",
                             "optimization.max_update=4",
                             "optimization.lr=[0.001]",
                             "dataset.max_tokens=16000",
                             "dataset.required_batch_size_multiple=1",
                             "dataset.valid_subset=valid",
                             "model.mask_channel_length=8",
                             "model.mask_length=4",
                             "common.log_interval=1"};
  auto lines = run(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", o));
  auto inner = tagged(lines, "train_inner");
  ASSERT_EQ(inner.size(), 4u);
  for (const auto& l : inner) {
    EXPECT_TRUE(std::isfinite(l["loss"].get<double>())) << l;
    EXPECT_GT(l["ntokens"].get<double>(), 0) << l;
    EXPECT_GE(l["bsz"].get<double>(), 2) << l;
  }
  // tri_stage over 4 updates: W = 0, H = 1, D = 2; lr after the last update is final_lr_scale * peak.
  EXPECT_NEAR(inner[3]["lr"].get<double>(), 0.05 * 0.001, 1e-12);
  auto valid = tagged(lines, "valid");
  ASSERT_FALSE(valid.empty());
  EXPECT_TRUE(valid.back().contains("valid_wer"));
  EXPECT_TRUE(valid.back().contains("valid_uer"));
  EXPECT_TRUE(fs::exists(data + "/ft/checkpoint_best.pt"));
  // fp16 and ddp_backend of the published config are reported once each.
  int warnings = 0;
  for (const auto& l : lines)
    if (l.contains("warning")) ++warnings;
  EXPECT_EQ(warnings, 2);
}

TEST_F(Trainer, ConfigErrorsNameTheKey) {
  const std::string data = make_corpus("err");
  auto o = pretrain_overrides(data, data + "/x", 1);
  o.push_back("model.quantize_targets=false");
  try {
    std::ostringstream out;
    w2v::train::Trainer t(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", o), out);
    FAIL() << "expected an error";
  } catch (const w2v::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.quantize_targets"), std::string::npos) << e.what();
  }
  std::vector<std::string> ft{"task.data=" + data, "model.w2v_path=" + data + "/missing.pt"};
  EXPECT_THROW(w2v::train::Trainer(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", ft), std::cout),
               w2v::Error);
}

// The worker half of Trainer.TwoWorkersMatchOneProcessAccumulatingTwoBatches, which runs this
// test binary twice with RANK/WORLD_SIZE set (disabled so that plain runs do not start it).
TEST(DistributedWorker, DISABLED_Run) {
  const char* data = std::getenv("W2V_DDP_DATA");
  ASSERT_NE(data, nullptr);
  torch::set_num_threads(1);
  auto o = pretrain_overrides(data, std::string(data) + "/ddp", 3);
  o.push_back("distributed_training.distributed_world_size=2");
  std::ostringstream out;
  w2v::train::Trainer t(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", o), out);
  t.train();
  if (std::string(std::getenv("RANK")) == "0") w2v::write_file_atomic(std::string(data) + "/ddp_log.jsonl", out.str());
}

TEST_F(Trainer, TwoWorkersMatchOneProcessAccumulatingTwoBatches) {
  const std::string data = make_corpus("ddp", 8);  // 2 batches per epoch
  auto o = pretrain_overrides(data, data + "/single", 3);
  o.push_back("optimization.update_freq=[2]");
  auto single = tagged(run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", o)),
                       "train_inner");
  setenv("W2V_DDP_DATA", data.c_str(), 1);
  const int rc = w2v::train::spawn_workers(
      {"test_train", "--gtest_filter=DistributedWorker.DISABLED_Run", "--gtest_also_run_disabled_tests"}, 2, 0);
  unsetenv("W2V_DDP_DATA");
  ASSERT_EQ(rc, 0);
  std::vector<json> lines;
  std::istringstream in(w2v::read_file(data + "/ddp_log.jsonl"));
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  auto ddp = tagged(lines, "train_inner");
  ASSERT_EQ(ddp.size(), 3u);
  ASSERT_EQ(single.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ddp[i]["bsz"], single[i]["bsz"]);
    EXPECT_NEAR(ddp[i]["loss"].get<double>(), single[i]["loss"].get<double>(),
                1e-5 * std::abs(single[i]["loss"].get<double>())) << i;
    EXPECT_NEAR(ddp[i]["gnorm"].get<double>(), single[i]["gnorm"].get<double>(),
                1e-4 * single[i]["gnorm"].get<double>()) << i;
  }
}
