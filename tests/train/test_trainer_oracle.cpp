// The trainer's update arithmetic against tools/oracle/train_update.py: with update_freq 2 the
// gradients of both batches are summed, divided by the summed sample_size, clipped to
// clip_norm and applied with one Adam step. The per-batch gradients come from the task run on
// the same batches with the trainer's seeds (train/trainer.h's contract), not from the trainer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "checkpoint/model_io.h"
#include "data/loader.h"
#include "train/lr_scheduler.h"
#include "train/oracle.h"
#include "train/random.h"
#include "train/task.h"
#include "train/tiny_run.h"

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup
namespace train = w2v::train;

struct UpdateCase {
  json request;
  std::vector<std::string> names;  // parameters with a gradient, in request order
  std::map<std::string, torch::Tensor> initial;
};

// What the oracle needs for the first update of `cfg`: the initial parameters, the gradient and
// loss of each of the cycle's batches, and the optimizer settings.
UpdateCase first_update(const Config& cfg) {
  const train::TrainSettings s = train::read_train_settings(cfg);
  torch::manual_seed(s.seed);  // as the trainer, before it builds the model
  auto task = train::make_task(cfg, s, {});
  auto& module = task->model().module();
  UpdateCase c;
  for (const auto& p : module.named_parameters()) c.initial[p.key()] = p.value().detach().clone();
  auto set = std::make_shared<w2v::data::AudioDataset>(s.data.dir + "/" + s.data.train_subset + ".tsv", s.data.dataset);
  w2v::data::Loader loader(set, s.data.train);
  loader.start_epoch(1);
  json grads = json::array(), sizes = json::array(), losses = json::array();
  module.train();
  task->set_num_updates(0);
  for (uint64_t i = 0; i < 2; ++i) {
    w2v::data::Batch batch;
    EXPECT_TRUE(loader.next(batch));
    for (auto& p : module.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    torch::manual_seed(train::stream_seed(s.seed, 0, i) >> 1);
    train::Rng rng(train::stream_seed(s.seed, 0, i));
    auto r = task->loss(batch, rng, true);
    r.loss.backward();
    json g = json::array();
    std::vector<std::string> names;
    for (const auto& p : module.named_parameters())
      if (p.value().grad().defined()) {
        g.push_back(encode(p.value().grad()));
        names.push_back(p.key());
      }
    if (i == 0) c.names = names;
    EXPECT_EQ(names, c.names);
    grads.push_back(g);
    sizes.push_back(r.sample_size);
    losses.push_back(r.loss.item<double>());
  }
  json params = json::array();
  for (const auto& n : c.names) params.push_back(encode(c.initial[n]));
  c.request = {{"params", params},
               {"grads", grads},
               {"sample_sizes", sizes},
               {"losses", losses},
               {"clip_norm", s.update.clip_norm},
               {"lr", train::make_lr_scheduler(cfg)->initial()},
               {"betas", {s.update.adam_betas[0], s.update.adam_betas[1]}},
               {"eps", s.update.adam_eps},
               {"weight_decay", s.update.weight_decay}};
  return c;
}

// One update with update_freq 2 and clip_norm `clip`, checked against the oracle.
void check_update(const std::string& name, double clip, bool expect_clipped) {
  const std::string data = make_corpus(name, 8);
  auto o = pretrain_overrides(data, data + "/run", 1);
  o.push_back("optimization.update_freq=[2]");
  o.push_back("optimization.clip_norm=" + std::to_string(clip));
  const Config cfg = Config::load(kPretrainConfig, o);
  UpdateCase c = first_update(cfg);
  const json ref = run_oracle("train_update.py", c.request);
  EXPECT_EQ(ref["clipped"].get<bool>(), expect_clipped) << "gnorm " << ref["gnorm"];

  auto inner = tagged(run(cfg), "train_inner");
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_NEAR(inner[0]["gnorm"].get<double>(), ref["gnorm"].get<double>(), 1e-4 * ref["gnorm"].get<double>());
  EXPECT_NEAR(inner[0]["loss"].get<double>(), ref["loss"].get<double>(), 1e-5 * std::abs(ref["loss"].get<double>()));

  const auto trained = w2v::ckpt::load_model(data + "/run/checkpoint_last.pt");
  auto after = trained.module().named_parameters();
  for (size_t i = 0; i < c.names.size(); ++i) {
    const torch::Tensor* p = after.find(c.names[i]);
    ASSERT_NE(p, nullptr) << c.names[i];
    const auto expected = decode(ref["params"][i]);
    // Compare the moves (Adam's first step is about lr per weight; clipping to 1e-3 brings
    // its small gradients near eps and shrinks them) to 0.1 % plus the fp32 rounding of the weights.
    const auto& before = c.initial[c.names[i]];
    const auto moved = (*p - before).to(torch::kDouble);
    const auto want = expected - before.to(torch::kDouble);
    const double ulps = 2.5e-7 * before.abs().max().item<double>();
    EXPECT_LT((moved - want).abs().max().item<double>(), 1e-3 * want.abs().max().item<double>() + ulps)
        << c.names[i];
  }
  // Parameters without a gradient (none expected in pre-training's update) stay as they were.
  for (const auto& p : after)
    if (std::find(c.names.begin(), c.names.end(), p.key()) == c.names.end())
      EXPECT_TRUE(torch::equal(p.value(), c.initial[p.key()])) << p.key();
}

TEST(TrainerOracle, UpdateFreq2NormalisesBySummedSampleSize) { check_update("oracle_noclip", 0.0, false); }

TEST(TrainerOracle, ClipNormScalesTheNormalisedGradient) { check_update("oracle_clip", 1e-3, true); }

}  // namespace
