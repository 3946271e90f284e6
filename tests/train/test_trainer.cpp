// End-to-end training runs on a tiny generated corpus: pre-training a tiny wav2vec2, CTC
// fine-tuning from it with the published base_100h config, and exact resume.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/run_command.h"
#include "config/config.h"
#include "train/launch.h"
#include "train/oracle.h"
#include "train/tiny_run.h"
#include "checkpoint/model_io.h"
#include "train/tensorboard.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;
using nlohmann::json;
using w2v::config::Config;

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup

// Fine-tuning overrides of base_100h.yaml for the tiny corpus, from data/pt/checkpoint_last.pt.
std::vector<std::string> finetune_overrides(const std::string& data, const std::string& save_dir, int max_update) {
  return {"task.data=" + data,
          "model.w2v_path=" + data + "/pt/checkpoint_last.pt",
          "checkpoint.save_dir=" + save_dir,
          "distributed_training.distributed_world_size=1",
          "optimization.update_freq=[2]",
          "optimization.max_update=" + std::to_string(max_update),
          "optimization.lr=[0.001]",
          "dataset.max_tokens=16000",
          "dataset.required_batch_size_multiple=1",
          "dataset.valid_subset=valid",
          "model.mask_channel_length=8",
          "model.mask_length=4",
          "common.log_interval=1"};
}

// The events of every file under dir/<tag>/, read back by the independent Python reader.
std::vector<json> board_events(const std::string& dir, const std::string& tag) {
  json files = json::array();
  for (const auto& e : fs::directory_iterator(dir + "/" + tag)) files.push_back(e.path().string());
  EXPECT_EQ(files.size(), 1u) << dir << "/" << tag;
  std::vector<json> events;
  const json answer = w2v::test::run_oracle("train_tensorboard.py", {{"files", files}});
  for (const auto& f : answer["files"])
    for (const auto& e : f) events.push_back(e);
  return events;
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
  // The config's warnings come first, then the resume record.
  size_t at = 0;
  while (at < resumed.size() && resumed[at].contains("warning")) ++at;
  ASSERT_TRUE(at < resumed.size() && resumed[at].contains("resumed")) << (at < resumed.size() ? resumed[at] : json());
  EXPECT_EQ(resumed[at]["num_updates"], 2);
  EXPECT_EQ(resumed[at]["iterations_in_epoch"], 2);
  auto inner2 = tagged(resumed, "train_inner");
  ASSERT_EQ(inner2.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(inner2[i]["num_updates"], inner[i + 2]["num_updates"]);
    EXPECT_NEAR(inner2[i]["loss"].get<double>(), inner[i + 2]["loss"].get<double>(), 1e-6) << i;
    EXPECT_NEAR(inner2[i]["gnorm"].get<double>(), inner[i + 2]["gnorm"].get<double>(), 1e-6) << i;
  }
}

namespace {

// Adam's step count per parameter (by index) in a checkpoint; absent: no state yet.
std::map<int64_t, int64_t> adam_steps(const std::string& path) {
  w2v::ckpt::LoadOptions keep;
  keep.keep_optimizer_state = true;
  const auto m = w2v::ckpt::load_model(path, keep);
  std::map<int64_t, int64_t> steps;
  for (const auto& [k, v] : m.checkpoint.at("last_optimizer_state.state").as_dict().items)
    steps[k.as_int()] = v.get("step").as_int();
  return steps;
}

}  // namespace

// With encoder_layerdrop 0.5 layers are dropped after the resume point: a dropped layer's
// parameters have no gradient in that update and Adam leaves them alone (fairseq's zero_grad
// sets gradients to None), whether the run was interrupted or not.
TEST_F(Trainer, ResumeWithLayerdropEqualsTheUninterruptedRun) {
  const std::string data = make_corpus("layerdrop");
  auto overrides = [&](const std::string& dir, int updates) {
    auto o = pretrain_overrides(data, data + "/" + dir, updates);
    o.push_back("model.encoder_layerdrop=0.5");
    return Config::load(kPretrainConfig, o);
  };
  auto full = tagged(run(overrides("full", 6)), "train_inner");
  run(overrides("resumed", 2));
  const auto mid = adam_steps(data + "/resumed/checkpoint_last.pt");
  auto resumed = tagged(run(overrides("resumed", 6)), "train_inner");
  ASSERT_EQ(full.size(), 6u);
  ASSERT_EQ(resumed.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(resumed[i]["num_updates"], full[i + 2]["num_updates"]);
    EXPECT_NEAR(resumed[i]["loss"].get<double>(), full[i + 2]["loss"].get<double>(), 1e-6) << i;
    EXPECT_NEAR(resumed[i]["gnorm"].get<double>(), full[i + 2]["gnorm"].get<double>(), 1e-6) << i;
  }
  const auto a = w2v::ckpt::load_model(data + "/full/checkpoint_last.pt");
  const auto b = w2v::ckpt::load_model(data + "/resumed/checkpoint_last.pt");
  const auto pa = a.module().named_parameters(), pb = b.module().named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  // The case is there: some parameter missed an update after the resume point (its layer was
  // dropped), and both runs counted the same Adam steps.
  const auto end = adam_steps(data + "/resumed/checkpoint_last.pt");
  EXPECT_EQ(adam_steps(data + "/full/checkpoint_last.pt"), end);
  int missed = 0;
  for (const auto& [i, step] : end) missed += step - (mid.count(i) ? mid.at(i) : 0) < 4;
  EXPECT_GT(missed, 0);
}

TEST_F(Trainer, FineTunesWithTheBase100hConfig) {
  const std::string data = make_corpus("ft");
  const std::string pt_cfg = kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml";
  run(Config::load(pt_cfg, pretrain_overrides(data, data + "/pt", 1)));
  auto lines = run(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", finetune_overrides(data, data + "/ft", 4)));
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
  // Without an LM, wer is the greedy WER.
  EXPECT_EQ(valid.back()["valid_wer"], valid.back()["valid_raw_wer"]);
  EXPECT_TRUE(fs::exists(data + "/ft/checkpoint_best.pt"));
  // fp16, skip_invalid_size_inputs_valid_test and ddp_backend of the published config are
  // reported once each.
  int warnings = 0;
  for (const auto& l : lines)
    if (l.contains("warning")) ++warnings;
  EXPECT_EQ(warnings, 3);
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

// The worker half of Trainer.TwoWorkersMatchOneProcessAccumulatingTwoBatches and
// TrainerOracle.TwoWorkers..., which run this test binary twice with RANK/WORLD_SIZE set
// (disabled so that plain runs do not start it); W2V_DDP_UPDATES updates (default 3), more
// overrides in W2V_DDP_OVERRIDES (one per line).
TEST(DistributedWorker, DISABLED_Run) {
  const char* data = std::getenv("W2V_DDP_DATA");
  ASSERT_NE(data, nullptr);
  torch::set_num_threads(1);
  const char* updates = std::getenv("W2V_DDP_UPDATES");
  auto o = pretrain_overrides(data, std::string(data) + "/ddp", updates ? std::atoi(updates) : 3);
  o.push_back("distributed_training.distributed_world_size=2");
  std::istringstream more(std::getenv("W2V_DDP_OVERRIDES") ? std::getenv("W2V_DDP_OVERRIDES") : "");
  for (std::string l; std::getline(more, l);) o.push_back(l);
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
  w2v::train::LocalLaunch launch;
  launch.world_size = launch.nprocs = 2;
  const int rc = w2v::train::spawn_workers(
      {"test_train", "--gtest_filter=DistributedWorker.DISABLED_Run", "--gtest_also_run_disabled_tests"}, launch);
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

TEST_F(Trainer, WritesTensorBoardEventsPerRecordTag) {
  const std::string data = make_corpus("tb");
  const std::string board = data + "/board";
  auto o = pretrain_overrides(data, data + "/run", 4);  // 3 batches per epoch: epochs 1 and 2
  o.push_back("common.tensorboard_logdir=" + board);
  auto lines = run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", o));
  auto inner = tagged(lines, "train_inner");
  ASSERT_EQ(inner.size(), 4u);
  auto events = board_events(board, "train_inner");
  ASSERT_EQ(events.size(), 5u);  // the file-version event, then one per train_inner line
  EXPECT_EQ(events[0]["file_version"], "brain.Event:2");
  for (size_t i = 0; i < inner.size(); ++i) {
    const json& e = events[i + 1];
    EXPECT_EQ(e["step"], inner[i]["num_updates"]);
    EXPECT_GT(e["wall_time"].get<double>(), 1.7e9);
    for (const char* key : {"loss", "accuracy", "prob_perplexity", "code_perplexity", "temp", "lr", "gnorm"})
      EXPECT_NEAR(e["scalars"][key].get<double>(), inner[i][key].get<double>(),
                  1e-6 * std::max(1.0, std::abs(inner[i][key].get<double>())))  // float32 in the event
          << key << " at " << i;
    EXPECT_FALSE(e["scalars"].contains("num_updates"));
  }
  // End-of-epoch "train" records (train_-prefixed in the JSON log, bare tags in TensorBoard).
  auto epochs = tagged(lines, "train");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0]["num_updates"], 3);
  EXPECT_TRUE(epochs[0].contains("train_loss") && epochs[0].contains("train_accuracy")) << epochs[0];
  auto train_events = board_events(board, "train");
  ASSERT_EQ(train_events.size(), 3u);
  EXPECT_EQ(train_events[1]["step"], 3);
  EXPECT_NEAR(train_events[1]["scalars"]["loss"].get<double>(), epochs[0]["train_loss"].get<double>(), 1e-5);
  // Validation: one subdirectory per subset.
  auto valid = tagged(lines, "valid");
  ASSERT_FALSE(valid.empty());
  auto valid_events = board_events(board, "valid");
  ASSERT_EQ(valid_events.size(), valid.size() + 1);
  EXPECT_EQ(valid_events.back()["step"], valid.back()["num_updates"]);
  EXPECT_NEAR(valid_events.back()["scalars"]["accuracy"].get<double>(), valid.back()["valid_accuracy"].get<double>(),
              1e-6);
}

TEST(TensorBoard, RecordsAreFramedWithMaskedCrc32c) {
  // CRC-32C check values (RFC 3720 B.4 and the common "123456789" test).
  EXPECT_EQ(w2v::train::crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(w2v::train::crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(w2v::train::crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  const std::string dir = ::testing::TempDir() + "w2v_tb_unit";
  fs::remove_all(dir);
  std::string path;
  {
    w2v::train::SummaryWriter w(dir + "/valid");
    w.add_scalars(1, {{"loss", 2.5}, {"wer", 37.25}});
    w.add_scalars(300, {{"loss", -0.125}});
    w.add_scalars(1LL << 40, {});
    path = w.path();
  }
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u) << path;
  auto files = w2v::test::run_oracle("train_tensorboard.py", {{"files", {path}}})["files"];
  ASSERT_EQ(files.size(), 1u);
  const json& ev = files[0];
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0]["file_version"], "brain.Event:2");
  EXPECT_EQ(ev[1]["step"], 1);
  EXPECT_EQ(ev[1]["scalars"], (json{{"loss", 2.5}, {"wer", 37.25}}));
  EXPECT_EQ(ev[2]["step"], 300);
  EXPECT_EQ(ev[2]["scalars"], (json{{"loss", -0.125}}));
  EXPECT_EQ(ev[3]["step"], 1LL << 40);
  EXPECT_TRUE(ev[3]["scalars"].empty());
  // The reader checks the CRCs: one flipped byte in the last record's data is rejected.
  std::string bytes = w2v::read_file(path);
  bytes[bytes.size() - 6] ^= 0x01;
  w2v::write_file_atomic(path, bytes);
  EXPECT_THROW(w2v::test::run_oracle("train_tensorboard.py", {{"files", {path}}}), std::runtime_error);
}

TEST_F(Trainer, ValidationWerComesFromTheInjectedLmDecoder) {
  const std::string data = make_corpus("lmwer");
  run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", pretrain_overrides(data, data + "/pt", 1)));
  auto o = finetune_overrides(data, data + "/ft", 2);
  o.push_back("criterion.wer_args=('/lm/4gram.bin', '/lm/lexicon.txt', 1.5, -0.5)");
  o.push_back("common.tensorboard_logdir=" + data + "/board");
  std::vector<w2v::train::LmDecoderSpec> specs;
  int64_t decoded_frames = 0;
  w2v::train::TrainerOptions options;
  options.make_lm_decoder = [&](const w2v::train::LmDecoderSpec& spec) {
    specs.push_back(spec);
    // Always "ABC": right for 1 of the 4 one-word validation utterances (ABC CC BCA AAB).
    return [&decoded_frames](const float*, int64_t frames, int64_t) {
      decoded_frames += frames;
      return std::vector<std::string>{"ABC"};
    };
  };
  auto lines = run(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", o), options);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].kenlm_model, "/lm/4gram.bin");
  EXPECT_EQ(specs[0].lexicon, "/lm/lexicon.txt");
  EXPECT_EQ(specs[0].lm_weight, 1.5);
  EXPECT_EQ(specs[0].word_score, -0.5);
  EXPECT_EQ(specs[0].symbols, (std::vector<std::string>{"<s>", "<pad>", "</s>", "<unk>", "|", "A", "B", "C"}));
  EXPECT_GT(decoded_frames, 0);
  auto valid = tagged(lines, "valid");
  ASSERT_FALSE(valid.empty());
  EXPECT_DOUBLE_EQ(valid.back()["valid_wer"].get<double>(), 75.0);
  const double raw = valid.back()["valid_raw_wer"].get<double>();
  EXPECT_GE(raw, 0.0);
  auto events = board_events(data + "/board", "valid");
  EXPECT_DOUBLE_EQ(events.back()["scalars"]["wer"].get<double>(), 75.0);
  EXPECT_NEAR(events.back()["scalars"]["raw_wer"].get<double>(), raw, 1e-4 * std::max(1.0, raw));
  // best_checkpoint_metric wer (base_100h) is the LM WER.
  ASSERT_TRUE(fs::exists(data + "/ft/checkpoint_best.pt"));
  const auto best = w2v::ckpt::load_model(data + "/ft/checkpoint_best.pt");
  EXPECT_DOUBLE_EQ(best.checkpoint.find_path("extra_state.best")->as_double(), 75.0);
}

// A best found by a validate_interval_updates validation between save points is written at once
// (this config saves only when training stops, where the WER is worse); fairseq would lose it.
TEST_F(Trainer, BestFoundBetweenSavePointsIsWritten) {
  const std::string data = make_corpus("best_between");
  run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", pretrain_overrides(data, data + "/pt", 1)));
  auto o = finetune_overrides(data, data + "/ft", 3);
  for (const char* extra : {"criterion.wer_args=('/lm.bin', '/lexicon.txt', 2.0, -1.0)", "dataset.validate_interval_updates=1",
                            "dataset.validate_interval=1000", "checkpoint.save_interval=1000", "checkpoint.save_interval_updates=0"})
    o.push_back(extra);
  int decoded = 0;
  w2v::train::TrainerOptions options;
  options.make_lm_decoder = [&decoded](const w2v::train::LmDecoderSpec&) -> w2v::train::WordDecoder {
    // The first validation's 4 utterances all hear "ABC" (1 right: WER 75), later ones nothing (100).
    return [&decoded](const float*, int64_t, int64_t) {
      return decoded++ < 4 ? std::vector<std::string>{"ABC"} : std::vector<std::string>{};
    };
  };
  auto valid = tagged(run(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", o), options), "valid");
  ASSERT_EQ(valid.size(), 3u);
  EXPECT_DOUBLE_EQ(valid[0]["valid_wer"].get<double>(), 75.0);
  EXPECT_DOUBLE_EQ(valid[2]["valid_wer"].get<double>(), 100.0);
  ASSERT_TRUE(fs::exists(data + "/ft/checkpoint_best.pt"));
  const auto best = w2v::ckpt::load_model(data + "/ft/checkpoint_best.pt");
  EXPECT_EQ(best.checkpoint.at("optimizer_history").items().at(0).at("num_updates").as_int(), 1);
  EXPECT_DOUBLE_EQ(best.checkpoint.at("extra_state.best").as_double(), 75.0);
  const auto last = w2v::ckpt::load_model(data + "/ft/checkpoint_last.pt");
  EXPECT_EQ(last.checkpoint.at("optimizer_history").items().at(0).at("num_updates").as_int(), 3);
}

TEST_F(Trainer, LmWerConfigErrorsNameTheKey) {
  const std::string data = make_corpus("lmerr");
  run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", pretrain_overrides(data, data + "/pt", 1)));
  auto expect_error = [&](const std::vector<std::string>& extra, const std::string& key, bool with_factory) {
    auto o = finetune_overrides(data, data + "/ft", 2);
    o.insert(o.end(), extra.begin(), extra.end());
    w2v::train::TrainerOptions options;
    if (with_factory)
      options.make_lm_decoder = [](const w2v::train::LmDecoderSpec&) -> w2v::train::WordDecoder {
        return [](const float*, int64_t, int64_t) { return std::vector<std::string>{}; };
      };
    std::ostringstream out;
    try {
      w2v::train::Trainer t(Config::load(kRoot + "/configs/finetuning/base_100h.yaml", o), out, options);
      ADD_FAILURE() << "expected an error naming " << key;
    } catch (const w2v::Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error({"criterion.wer_kenlm_model=/lm.arpa"}, "criterion.wer_lexicon", true);
  expect_error({"criterion.wer_kenlm_model=/lm.arpa", "criterion.wer_lexicon=/lex.txt"}, "criterion.wer_kenlm_model", false);
  expect_error({"criterion.wer_args=('/lm.arpa', '/lex.txt', 2)"}, "criterion.wer_args", true);
  expect_error({"criterion.wer_args=/lm.arpa"}, "criterion.wer_args", true);
}

// `w2v train` builds the lexicon + LM decoder for validation: its `wer` equals what `w2v infer`
// reports for the saved model with the same lexicon, LM and fairseq criterion beam settings,
// and its `raw_wer` what infer's greedy (viterbi) decoding reports.
TEST_F(Trainer, CliValidationLmWerMatchesInfer) {
  const std::string data = make_corpus("cli_lm");
  run(Config::load(kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml", pretrain_overrides(data, data + "/pt", 1)));
  w2v::write_file_atomic(data + "/lexicon.txt",
                         "AB A B |\nBA B A |\nCAB C A B |\nABC A B C |\nCC C C |\nBCA B C A |\nAAB A A B |\n"
                         "CBA C B A |\nBB B B |\nACB A C B |\n");
  w2v::write_file_atomic(data + "/lm.arpa",
                         "\\data\\\nngram 1=13\n\n\\1-grams:\n-2.0\t<unk>\n-99\t<s>\n-0.7\t</s>\n-1.2\tAB\n-1.3\tBA\n"
                         "-0.9\tCAB\n-0.8\tABC\n-1.0\tCC\n-1.1\tBCA\n-0.95\tAAB\n-1.4\tCBA\n-1.5\tBB\n-1.6\tACB\n\n\\end\\\n");
  std::string cmd = std::string(W2V_BINARY) + " train --threads 1 --config " + kRoot + "/configs/finetuning/base_100h.yaml";
  for (const auto& o : finetune_overrides(data, data + "/ft", 2)) cmd += " \"" + o + "\"";
  // A positive word score makes the decoder emit words even from a barely trained model.
  cmd += " criterion.wer_kenlm_model=" + data + "/lm.arpa criterion.wer_lexicon=" + data +
         "/lexicon.txt criterion.wer_lm_weight=1.5 criterion.wer_word_score=2";
  std::string out;
  ASSERT_EQ(w2v::test::run_command(cmd, out), 0) << out;
  json last_valid;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("{", 0) == 0 && json::parse(l).value("tag", "") == "valid") last_valid = json::parse(l);
  ASSERT_FALSE(last_valid.is_null()) << out;
  std::string hypotheses;  // of the last infer_wer call
  auto infer_wer = [&](const std::string& decoder_args) {
    std::string o;
    EXPECT_EQ(w2v::test::run_command(std::string(W2V_BINARY) + " infer " + data + " --subset valid --threads 1 --path " +
                                         data + "/ft/checkpoint_last.pt --results-path " + data + "/results " +
                                         decoder_args,
                                     o),
              0)
        << o;
    hypotheses = w2v::read_file(data + "/results/hypo.word-checkpoint_last.pt-valid.txt");
    const size_t at = o.find("WER: ");
    EXPECT_NE(at, std::string::npos) << o;
    return at == std::string::npos ? -1.0 : std::stod(o.substr(at + 5));
  };
  // fairseq's criterion decoder: beam 50, beam_size_token = beam_threshold = min(50, V) = 8.
  const std::string lexicon_lm = "--decoder lexicon --lexicon " + data + "/lexicon.txt --lm " + data +
                                 "/lm.arpa --beam 50 --beam-size-token 8 --beam-threshold 8 --lm-weight 1.5 "
                                 "--sil-weight 0 --word-score ";
  const double lm = infer_wer(lexicon_lm + "2");
  const std::string lm_hypotheses = hypotheses;
  const double greedy = infer_wer("--decoder viterbi");
  EXPECT_NEAR(last_valid["valid_wer"].get<double>(), lm, 0.006) << out;
  EXPECT_NEAR(last_valid["valid_raw_wer"].get<double>(), greedy, 0.006) << out;
  // The comparison means something: the LM decoder's WER differs from greedy, and with
  // fairseq's default word score (-1) its words differ too (the WER may be 100 % either way),
  // so validation used the configured one.
  EXPECT_NE(lm, greedy);
  infer_wer(lexicon_lm + "-1");
  EXPECT_NE(hypotheses, lm_hypotheses) << hypotheses;
}
