// The trainer's updates against tools/oracle/train_update.py: gradients summed over an
// accumulation cycle (update_freq 2, or 2 worker processes), divided by the summed sample_size,
// clipped to clip_norm, one Adam step per parameter with a gradient; a cycle with a non-finite
// loss skipped without touching the weights or Adam; Adam's per-parameter state across the end
// of freeze_finetune_updates. The per-batch gradients come from the task run on the same
// batches with the trainer's seeds (train/trainer.h's contract), not from the trainer; after
// an update the reference continues from the oracle's weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/model_io.h"
#include "data/loader.h"
#include "train/launch.h"
#include "train/lr_scheduler.h"
#include "train/oracle.h"
#include "train/random.h"
#include "train/task.h"
#include "train/tiny_run.h"
#include "util/fs.h"

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup
namespace train = w2v::train;
using w2v::data::Batch;

// The reference side: the task as the trainer builds it, its parameters by name and the
// training batches in the trainer's order.
struct Reference {
  train::TrainSettings s;
  std::unique_ptr<train::Task> task;
  std::vector<std::string> names;  // every parameter, in request order
  std::map<std::string, torch::Tensor> initial;
  std::unique_ptr<w2v::data::Loader> loader;
  std::unique_ptr<train::LrScheduler> scheduler;

  explicit Reference(const Config& cfg) : s(train::read_train_settings(cfg)) {
    torch::manual_seed(s.seed);  // as the trainer, before it builds the model
    task = train::make_task(cfg, s, {});
    for (const auto& p : task->model().module().named_parameters()) {
      names.push_back(p.key());
      initial[p.key()] = p.value().detach().clone();
    }
    const auto& dict = task->model().dictionary;
    auto set = std::make_shared<w2v::data::AudioDataset>(
        s.data.dir + "/" + s.data.train_subset + ".tsv", s.data.dataset,
        s.data.labels.empty() ? "" : s.data.dir + "/" + s.data.train_subset + "." + s.data.labels,
        dict ? std::make_shared<w2v::data::Dictionary>(*dict) : nullptr);
    loader = std::make_unique<w2v::data::Loader>(set, s.data.train);
    loader->start_epoch(1);
    scheduler = train::make_lr_scheduler(cfg);
  }

  std::vector<Batch> next(size_t n) {
    std::vector<Batch> out(n);
    for (auto& b : out) EXPECT_TRUE(loader->next(b));
    return out;
  }

  // The oracle's request for the update after `num_updates` updates on `batches`: the current
  // parameters, each batch's gradients (null where a parameter has none), sample size and loss.
  json request(const std::vector<Batch>& batches, int64_t num_updates, double lr, const json& state = json()) {
    auto& module = task->model().module();
    module.train();
    task->set_num_updates(num_updates);
    json grads = json::array(), sizes = json::array(), losses = json::array();
    for (uint64_t i = 0; i < batches.size(); ++i) {
      for (auto& p : module.parameters()) p.mutable_grad() = torch::Tensor();
      torch::manual_seed(train::stream_seed(s.seed, static_cast<uint64_t>(num_updates), i) >> 1);
      train::Rng rng(train::stream_seed(s.seed, static_cast<uint64_t>(num_updates), i));
      auto r = task->loss(batches[i], rng, true);
      const double loss = r.loss.item<double>();
      const bool finite = std::isfinite(loss);
      if (finite) r.loss.backward();
      json g = json::array();
      auto named = module.named_parameters();
      for (const auto& n : names) {
        const torch::Tensor& grad = named[n].grad();
        g.push_back(finite && grad.defined() ? encode(grad) : json());
      }
      grads.push_back(g);
      sizes.push_back(r.sample_size);
      losses.push_back(finite ? json(loss) : json(std::isnan(loss) ? "nan" : "inf"));
    }
    json params = json::array();
    auto named = module.named_parameters();
    for (const auto& n : names) params.push_back(encode(named[n]));
    return {{"params", params},      {"grads", grads},
            {"sample_sizes", sizes}, {"losses", losses},
            {"clip_norm", s.update.clip_norm},
            {"lr", lr},              {"betas", {s.update.adam_betas[0], s.update.adam_betas[1]}},
            {"eps", s.update.adam_eps},
            {"weight_decay", s.update.weight_decay},
            {"state", state}};
  }

  // The oracle's weights become the model's (the next update's gradients are taken there).
  void adopt(const json& answer) {
    torch::NoGradGuard no_grad;
    auto named = task->model().module().named_parameters();
    for (size_t i = 0; i < names.size(); ++i) named[names[i]].copy_(decode(answer["params"][i]).to(torch::kFloat));
  }

  // Parameters with a gradient in the first batch of a request.
  static size_t with_gradient(const json& request) {
    size_t n = 0;
    for (const auto& g : request["grads"][0]) n += g.is_null() ? 0 : 1;
    return n;
  }

  // The trained checkpoint holds the oracle's weights: each weight's move from the initial
  // one to 0.1 % of the largest move (at least of lr, as Adam's steps are about lr per weight:
  // a gradient that is rounding noise, as a key bias's, moves its weight by noise) plus the
  // fp32 rounding of the weights; a weight without a gradient stays exactly.
  void expect_checkpoint(const std::string& path, const json& answer, double lr) const {
    const auto trained = w2v::ckpt::load_model(path);
    auto after = trained.module().named_parameters();
    ASSERT_EQ(after.size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      const torch::Tensor* p = after.find(names[i]);
      ASSERT_NE(p, nullptr) << names[i];
      const auto& before = initial.at(names[i]);
      const auto moved = (*p - before).to(torch::kDouble);
      const auto want = decode(answer["params"][i]) - before.to(torch::kDouble);
      const double ulps = 2.5e-7 * before.abs().max().item<double>();
      const double largest = want.abs().max().item<double>();
      EXPECT_LE((moved - want).abs().max().item<double>(), 1e-3 * (largest > 0 ? std::max(largest, lr) : 0) + ulps)
          << names[i];
    }
  }
};

void expect_logged(const json& record, const json& answer) {
  EXPECT_NEAR(record["gnorm"].get<double>(), answer["gnorm"].get<double>(), 1e-4 * answer["gnorm"].get<double>());
  EXPECT_NEAR(record["loss"].get<double>(), answer["loss"].get<double>(), 1e-5 * std::abs(answer["loss"].get<double>()));
}

// One pre-training update of two batches (update_freq 2) with clip_norm `clip`.
void check_update(const std::string& name, double clip, bool expect_clipped) {
  const std::string data = make_corpus(name, 8);
  auto o = pretrain_overrides(data, data + "/run", 1);
  o.push_back("optimization.update_freq=[2]");
  o.push_back("optimization.clip_norm=" + std::to_string(clip));
  const Config cfg = Config::load(kPretrainConfig, o);
  Reference ref(cfg);
  const json request = ref.request(ref.next(2), 0, ref.scheduler->initial());
  EXPECT_GT(Reference::with_gradient(request), ref.names.size() / 2);
  const json answer = run_oracle("train_update.py", request);
  EXPECT_EQ(answer["clipped"].get<bool>(), expect_clipped) << "gnorm " << answer["gnorm"];

  auto inner = tagged(run(cfg), "train_inner");
  ASSERT_EQ(inner.size(), 1u);
  expect_logged(inner[0], answer);
  ref.expect_checkpoint(data + "/run/checkpoint_last.pt", answer, request["lr"].get<double>());
}

// CTC fine-tuning overrides of base_100h.yaml for the tiny corpus, from a 1-update
// pre-training of it (in data/pt); no validation; the peak learning rate from the first update
// (a tri_stage over max_update 1 or 2 would have no steps).
std::vector<std::string> oracle_finetune(const std::string& data, int max_update) {
  run(Config::load(kPretrainConfig, pretrain_overrides(data, data + "/pt", 1)));
  return {"task.data=" + data, "model.w2v_path=" + data + "/pt/checkpoint_last.pt",
          "checkpoint.save_dir=" + data + "/ft", "distributed_training.distributed_world_size=1",
          "optimization.update_freq=[1]", "optimization.max_update=" + std::to_string(max_update),
          "optimization.lr=[0.001]", "dataset.max_tokens=16000", "dataset.required_batch_size_multiple=1",
          "dataset.disable_validation=true", "model.mask_channel_length=8", "model.mask_length=4",
          "common.log_interval=1", "lr_scheduler.max_update=10", "lr_scheduler.phase_ratio=[0.0,0.5,0.5]",
          "lr_scheduler.init_lr_scale=1.0"};
}

const std::string kFinetuneConfig = kRoot + "/configs/finetuning/base_100h.yaml";

// The train_inner records of DistributedWorker.DISABLED_Run (test_trainer.cpp) as 2 worker
// processes on `data` for `updates` updates with `overrides` (one per line); the checkpoints go
// to data/ddp.
std::vector<json> two_workers(const std::string& data, int updates, const std::string& overrides = "") {
  setenv("W2V_DDP_DATA", data.c_str(), 1);
  setenv("W2V_DDP_UPDATES", std::to_string(updates).c_str(), 1);
  setenv("W2V_DDP_OVERRIDES", overrides.c_str(), 1);
  train::LocalLaunch launch;
  launch.world_size = launch.nprocs = 2;
  const int rc = train::spawn_workers(
      {"test_train", "--gtest_filter=DistributedWorker.DISABLED_Run", "--gtest_also_run_disabled_tests"}, launch);
  for (const char* v : {"W2V_DDP_DATA", "W2V_DDP_UPDATES", "W2V_DDP_OVERRIDES"}) unsetenv(v);
  EXPECT_EQ(rc, 0);
  return rc == 0 ? tagged(parse_log(w2v::read_file(data + "/ddp_log.jsonl")), "train_inner") : std::vector<json>{};
}

}  // namespace

TEST(TrainerOracle, UpdateFreq2NormalisesBySummedSampleSize) { check_update("oracle_noclip", 0.0, false); }

TEST(TrainerOracle, ClipNormScalesTheNormalisedGradient) { check_update("oracle_clip", 1e-3, true); }

// Two worker processes, one batch each: their gradients are summed over the workers and divided
// by the sample_size summed over the workers (not averaged per worker), as fairseq's all-reduce.
TEST(TrainerOracle, TwoWorkersNormaliseBySampleSizeSummedOverWorkers) {
  const std::string data = make_corpus("oracle_ddp", 7);  // batches of different sizes
  // The reference: the two batches the workers take, with their positions' seeds, is what one
  // process with update_freq 2 draws (train/trainer.h).
  auto o = pretrain_overrides(data, data + "/unused", 1);
  o.push_back("optimization.update_freq=[2]");
  Reference ref(Config::load(kPretrainConfig, o));
  const auto batches = ref.next(2);
  const json request = ref.request(batches, 0, ref.scheduler->initial());
  // Batches of different sample sizes: a per-worker mean would give another gradient.
  EXPECT_NE(request["sample_sizes"][0], request["sample_sizes"][1]);
  const json answer = run_oracle("train_update.py", request);

  auto inner = two_workers(data, 1);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(inner[0]["bsz"].get<double>(), static_cast<double>(batches[0].size() + batches[1].size()));
  expect_logged(inner[0], answer);
  ref.expect_checkpoint(data + "/ddp/checkpoint_last.pt", answer, request["lr"].get<double>());
}

// A cycle whose loss is infinite (an impossible CTC target, criterion.zero_infinity false) is
// skipped: no step, no update counted, Adam untouched; the next cycle is then update 1, with
// update 0's seeds and Adam's first step (t = 1).
TEST(TrainerOracle, NonFiniteCycleIsSkippedAndTheNextIsAdamsFirstStep) {
  const std::string data = make_corpus("oracle_nonfinite", 8);
  auto o = oracle_finetune(data, 1);
  o.push_back("criterion.zero_infinity=false");
  std::vector<int64_t> first_batch;
  {  // Which items the first batch holds (batching looks at the audio only, not the labels).
    Reference probe(Config::load(kFinetuneConfig, o));
    first_batch = probe.next(1)[0].ids;
  }
  // One item of the first batch gets a transcript longer than its frames.
  std::vector<std::string> lines;
  std::istringstream in(w2v::read_file(data + "/train.ltr"));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string impossible;
  for (int i = 0; i < 60; ++i) impossible += "A B C ";
  lines.at(static_cast<size_t>(first_batch.at(0))) = impossible + "|";
  std::string ltr;
  for (const auto& l : lines) ltr += l + "\n";
  w2v::write_file_atomic(data + "/train.ltr", ltr);

  const Config cfg = Config::load(kFinetuneConfig, o);
  Reference ref(cfg);
  const json skipped_request = ref.request(ref.next(1), 0, ref.scheduler->initial());
  const json skipped = run_oracle("train_update.py", skipped_request);
  ASSERT_TRUE(skipped["skipped"].get<bool>());
  const json answer = run_oracle("train_update.py", ref.request(ref.next(1), 0, ref.scheduler->initial(), skipped["state"]));
  ASSERT_FALSE(answer["skipped"].get<bool>());

  const auto lines_out = run(cfg);
  size_t warnings = 0;
  for (const auto& l : lines_out)
    if (l.contains("warning") && l["warning"].get<std::string>().find("skipping update") != std::string::npos) {
      EXPECT_EQ(l["num_updates"], 0) << l;
      ++warnings;
    }
  EXPECT_EQ(warnings, 1u);
  auto inner = tagged(lines_out, "train_inner");
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(inner[0]["num_updates"], 1);
  expect_logged(inner[0], answer);
  ref.expect_checkpoint(data + "/ft/checkpoint_last.pt", answer, ref.scheduler->initial());
}

// freeze_finetune_updates 1: update 1 trains proj alone; update 2 trains the encoder too. Adam
// keeps a step count per parameter as fairseq's (torch's) does: proj takes its second step
// (t = 2), the encoder its first (t = 1), not a second with a global count.
TEST(TrainerOracle, AdamStateAcrossTheEndOfFreezeFinetuneUpdates) {
  const std::string data = make_corpus("oracle_freeze", 8);
  auto o = oracle_finetune(data, 2);
  o.push_back("model.freeze_finetune_updates=1");
  const Config cfg = Config::load(kFinetuneConfig, o);
  Reference ref(cfg);
  const json first = ref.request(ref.next(1), 0, ref.scheduler->initial());
  EXPECT_EQ(Reference::with_gradient(first), 2u);  // proj.weight and proj.bias
  const json answer1 = run_oracle("train_update.py", first);
  ref.adopt(answer1);
  const json second = ref.request(ref.next(1), 1, ref.scheduler->lr(1), answer1["state"]);
  EXPECT_GT(Reference::with_gradient(second), 2u);
  const json answer2 = run_oracle("train_update.py", second);

  auto inner = tagged(run(cfg), "train_inner");
  ASSERT_EQ(inner.size(), 2u);
  expect_logged(inner[0], answer1);
  expect_logged(inner[1], answer2);
  ref.expect_checkpoint(data + "/ft/checkpoint_last.pt", answer2, ref.scheduler->lr(1));
}

// encoder_layerdrop 0.5, two updates of two batches: a layer one batch dropped and the other
// kept has the kept batch's gradient (the other counts as zeros), and in the second update a
// layer both dropped has no gradient, so Adam leaves its weights and state alone (fairseq's
// zero_grad sets gradients to None), though it had a gradient in the first. One process
// with update_freq 2, and 2 workers of one batch each (the all-reduce), against the oracle.
TEST(TrainerOracle, LayerdropGradientsOfSomeBatchesOrNone) {
  const std::string data = make_corpus("oracle_layerdrop", 20);
  auto config = [&](int seed) {
    auto o = pretrain_overrides(data, data + "/run", 2);
    for (const std::string& s : {std::string("optimization.update_freq=[2]"), std::string("model.encoder_layerdrop=0.5"),
                                 "common.seed=" + std::to_string(seed)})
      o.push_back(s);
    return Config::load(kPretrainConfig, o);
  };
  // Whether the two updates' gradients hold both cases: a parameter with a gradient in one
  // batch of an update, and one with a gradient in update 1 but none in 2.
  auto both_cases = [](const json& first, const json& second) {
    size_t in_one = 0, in_none = 0;
    for (size_t i = 0; i < first["grads"][0].size(); ++i) {
      const auto &g1 = first["grads"], &g2 = second["grads"];
      const int had = !g1[0][i].is_null() + !g1[1][i].is_null(), has = !g2[0][i].is_null() + !g2[1][i].is_null();
      in_one += (had == 1) + (has == 1);
      in_none += had > 0 && has == 0;
    }
    return in_one > 0 && in_none > 0;
  };
  // The first seed whose LayerDrop draws give both (which layers drop does not depend on the
  // weights, so the probe need not step).
  int seed = 1;
  for (; seed <= 20; ++seed) {
    Reference probe(config(seed));
    const json first = probe.request(probe.next(2), 0, 0.0);
    if (both_cases(first, probe.request(probe.next(2), 1, 0.0))) break;
  }
  ASSERT_LE(seed, 20) << "no seed gives both cases";
  const Config cfg = config(seed);
  Reference ref(cfg);
  const json first = ref.request(ref.next(2), 0, ref.scheduler->initial());
  const json answer1 = run_oracle("train_update.py", first);
  ref.adopt(answer1);
  const json second = ref.request(ref.next(2), 1, ref.scheduler->lr(1), answer1["state"]);
  const json answer2 = run_oracle("train_update.py", second);
  EXPECT_TRUE(both_cases(first, second));

  auto inner = tagged(run(cfg), "train_inner");
  ASSERT_EQ(inner.size(), 2u);
  expect_logged(inner[0], answer1);
  expect_logged(inner[1], answer2);
  ref.expect_checkpoint(data + "/run/checkpoint_last.pt", answer2, ref.scheduler->lr(1));

  auto ddp = two_workers(data, 2, "model.encoder_layerdrop=0.5\ncommon.seed=" + std::to_string(seed));
  ASSERT_EQ(ddp.size(), 2u);
  expect_logged(ddp[0], answer1);
  expect_logged(ddp[1], answer2);
  ref.expect_checkpoint(data + "/ddp/checkpoint_last.pt", answer2, ref.scheduler->lr(1));
}
