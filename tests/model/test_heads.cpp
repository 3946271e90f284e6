// Pre-training heads vs tools/oracle/model_reference.py (a Python reference written from the
// spec; torchaudio has no quantizer): Gumbel quantizer (eval and seeded training, gradients),
// contrastive logits with neg_is_pos, and the whole pre-training forward.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/wav2vec2.h"
#include "oracle.h"

using namespace w2v::model;
using namespace w2v::test;

namespace {

struct QuantRun {
  QuantizerOutput ours;
  c10::impl::GenericDict ref = new_dict();
  at::Tensor grad_x;
};

QuantRun run_quantizer(bool training) {
  torch::manual_seed(11);
  const int64_t B = 2, M = 7, C = 16, V = 5, G = 2, vq = 12;
  GumbelVectorQuantizer q(C, V, std::array<double, 3>{2.0, 0.5, 0.999995}, G, vq);
  q->set_num_updates(100000);
  training ? q->train() : q->eval();
  auto x = torch::randn({B, M, C}).requires_grad_();
  auto w = torch::randn({B, M, vq});
  TempDir dir;
  IDict in = new_dict();
  in.insert("mode", std::string("quantizer"));
  in.insert("x", x.detach());
  in.insert("vars", q->vars.detach());
  in.insert("weight_proj_weight", q->weight_proj->weight.detach());
  in.insert("weight_proj_bias", q->weight_proj->bias.detach());
  in.insert("groups", G);
  in.insert("temp", q->curr_temp());
  in.insert("training", training);
  in.insert("seed", static_cast<int64_t>(1234));
  in.insert("grad_weights", w);
  save_dict(dir.file("in.pt"), in);
  run_oracle("model_reference.py", dir.file("in.pt"), dir.file("out.pt"));
  QuantRun r;
  r.ref = load_dict(dir.file("out.pt"));
  torch::manual_seed(1234);
  r.ours = q->forward(x);
  ((r.ours.x * w).sum() + r.ours.prob_perplexity).backward();
  r.grad_x = x.grad();
  EXPECT_LE(max_abs_diff(q->vars.grad(), get_tensor(r.ref, "grad_vars")), 1e-5);
  EXPECT_LE(max_abs_diff(q->weight_proj->weight.grad(), get_tensor(r.ref, "grad_weight_proj_weight")), 1e-4);
  EXPECT_LE(max_abs_diff(q->weight_proj->bias.grad(), get_tensor(r.ref, "grad_weight_proj_bias")), 1e-4);
  return r;
}

void expect_quantizer_parity(const QuantRun& r) {
  EXPECT_LE(max_abs_diff(r.ours.x, get_tensor(r.ref, "x")), 1e-5);
  EXPECT_TRUE(r.ours.targets.equal(get_tensor(r.ref, "targets")));
  EXPECT_NEAR(r.ours.code_perplexity.item<double>(), get_tensor(r.ref, "code_perplexity").item<double>(), 1e-5);
  EXPECT_NEAR(r.ours.prob_perplexity.item<double>(), get_tensor(r.ref, "prob_perplexity").item<double>(), 1e-5);
  EXPECT_LE(max_abs_diff(r.grad_x, get_tensor(r.ref, "grad_x")), 1e-4);
  EXPECT_EQ(r.ours.num_vars, 10);
}

}  // namespace

TEST(ModelHeads, QuantizerEvalMatchesReference) {
  at::set_num_threads(1);
  auto r = run_quantizer(false);
  expect_quantizer_parity(r);
}

TEST(ModelHeads, QuantizerTrainingGumbelMatchesReference) {
  at::set_num_threads(1);
  auto r = run_quantizer(true);
  expect_quantizer_parity(r);
}

TEST(ModelHeads, QuantizerTemperatureSchedule) {
  GumbelVectorQuantizer q(8, 4, std::array<double, 3>{2.0, 0.5, 0.999995}, 2, 8);
  EXPECT_DOUBLE_EQ(q->curr_temp(), 2.0);
  q->set_num_updates(1000);
  EXPECT_NEAR(q->curr_temp(), 2.0 * std::pow(0.999995, 1000), 1e-12);
  q->set_num_updates(300000);  // floor reached after ~277k updates (spec 3.3)
  EXPECT_DOUBLE_EQ(q->curr_temp(), 0.5);
}

TEST(ModelHeads, ComputePredsMatchesReferenceWithNegIsPos) {
  at::set_num_threads(1);
  torch::manual_seed(12);
  auto cfg = small_config("base");
  Wav2Vec2Model m(cfg);
  const int64_t K = 4, B = 2, M = 5, F = 24;
  auto x = torch::randn({B, M, F}), y = torch::randn({B, M, F});
  auto negs = torch::randn({K, B, M, F});
  negs[2][1][3] = y[1][3];  // a negative identical to its positive
  negs[0][0][0] = y[0][0];
  TempDir dir;
  IDict in = new_dict();
  in.insert("mode", std::string("compute_preds"));
  in.insert("x", x);
  in.insert("y", y);
  in.insert("negatives", negs);
  in.insert("logit_temp", cfg.logit_temp);
  save_dict(dir.file("in.pt"), in);
  run_oracle("model_reference.py", dir.file("in.pt"), dir.file("out.pt"));
  auto ref = get_tensor(load_dict(dir.file("out.pt")), "logits");
  auto ours = m->compute_preds(x, y, negs);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  EXPECT_TRUE(std::isinf(ours[3][1][3].item<float>()) && ours[3][1][3].item<float>() < 0);
  EXPECT_TRUE(std::isinf(ours[1][0][0].item<float>()));
  EXPECT_EQ(ours.isinf().sum().item<int64_t>(), 2);
  EXPECT_TRUE(ours.isinf().equal(ref.isinf()));
  auto finite = ~ref.isinf();
  EXPECT_LE(max_abs_diff(ours.masked_select(finite), ref.masked_select(finite)), 1e-4);
}

namespace {

void pretrain_parity(const std::string& family, bool padded) {
  at::set_num_threads(2);
  torch::manual_seed(13);
  auto cfg = small_config(family);
  Wav2Vec2Model m(cfg);
  m->eval();
  const int64_t B = 2, L = 8000, K = 6;
  auto source = 0.3 * torch::randn({B, L});
  const int64_t T = m->output_length(L);
  std::vector<int64_t> lengths{L, padded ? 5000 : L};
  auto pm = torch::arange(L).unsqueeze(0) >= torch::tensor(lengths).unsqueeze(1);
  if (padded) source[1].narrow(0, 5000, L - 5000).zero_();
  // Same number M of masked frames per row, inside the real frames.
  auto mask = torch::zeros({B, T}, torch::kBool);
  for (int64_t t : {1, 2, 3, 7, 8, 12}) mask[0][t] = true;
  for (int64_t t : {0, 4, 5, 6, 10, 11}) mask[1][t] = true;
  const int64_t M = 6;
  auto neg = torch::randint(0, M - 1, {B, M, K}, torch::kLong);
  neg = neg + (neg >= torch::arange(M).view({1, M, 1})).to(torch::kLong);  // skip the positive
  neg = (neg + (torch::arange(B) * M).view({B, 1, 1})).view({B, M * K});
  TempDir dir;
  IDict in = new_dict();
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& p : m->named_parameters()) state.insert(p.key(), p.value().detach().clone());
  auto json = config_json(cfg);
  in.insert("config", json);
  in.insert("vocab", static_cast<int64_t>(0));
  in.insert("state", state);
  in.insert("source", source);
  if (padded) in.insert("lengths", torch::tensor(lengths, torch::kLong));
  in.insert("mask_indices", mask);
  in.insert("negative_indices", neg);
  save_dict(dir.file("in.pt"), in);
  run_oracle("model_torchaudio.py", dir.file("in.pt"), dir.file("out.pt"));
  auto ref = load_dict(dir.file("out.pt"));
  torch::NoGradGuard no_grad;
  auto out = m->forward(source, padded ? pm : torch::Tensor(), mask, neg);
  auto ref_logits = get_tensor(ref, "pt_logits");
  ASSERT_EQ(out.logits.sizes(), torch::IntArrayRef({1 + K, B, M}));
  EXPECT_TRUE(out.logits.isinf().equal(ref_logits.isinf()));
  auto finite = ~ref_logits.isinf();
  EXPECT_LE(max_abs_diff(out.logits.masked_select(finite), ref_logits.masked_select(finite)), 1e-4);
  EXPECT_NEAR(out.features_pen.item<double>(), get_tensor(ref, "pt_features_pen").item<double>(), 1e-5);
  EXPECT_NEAR(out.quantized.prob_perplexity.item<double>(), get_tensor(ref, "pt_prob_perplexity").item<double>(), 1e-4);
  EXPECT_NEAR(out.quantized.code_perplexity.item<double>(), get_tensor(ref, "pt_code_perplexity").item<double>(), 1e-4);
}

}  // namespace

TEST(ModelHeads, PretrainForwardBaseFamilyMatchesReference) { pretrain_parity("base", false); }

TEST(ModelHeads, PretrainForwardLargeLvPaddedMatchesReference) { pretrain_parity("large_lv", true); }
