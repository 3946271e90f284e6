// Training-time behaviour: gradients vs torchaudio, dropout/layerdrop only in training,
// feature_grad_mult, freeze_finetune_updates and mask application.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/ctc.h"
#include "model/gelu.h"
#include "oracle.h"

using namespace w2v::model;
using namespace w2v::test;

namespace {

at::Tensor padded_source(int64_t L, int64_t short_len) {
  auto s = 0.3 * torch::randn({2, L});
  s[1].narrow(0, short_len, L - short_len).zero_();
  return s;
}

void expect_gradient_parity(const std::string& family) {
  at::set_num_threads(2);
  torch::manual_seed(21);
  auto cfg = small_config(family);
  cfg.feature_grad_mult = 1.0;
  Wav2VecCtc m(cfg, 7);
  m->eval();
  const int64_t L = 7000, short_len = 4500;
  auto source = padded_source(L, short_len);
  auto pm = torch::arange(L).unsqueeze(0) >= torch::tensor({L, short_len}).unsqueeze(1);
  const int64_t T = conv_output_length(cfg.conv_layers(), L);
  auto w = torch::randn({2, T, 7});

  TempDir dir;
  IDict in = new_dict();
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& p : m->named_parameters()) state.insert(p.key(), p.value().detach().clone());
  in.insert("config", config_json(cfg));
  in.insert("vocab", static_cast<int64_t>(7));
  in.insert("state", state);
  in.insert("source", source);
  in.insert("lengths", torch::tensor({L, short_len}, torch::kLong));
  in.insert("grad_weights", w);
  save_dict(dir.file("in.pt"), in);
  run_oracle("model_torchaudio.py", dir.file("in.pt"), dir.file("out.pt"));
  auto ref_grads = load_dict(dir.file("out.pt")).at("grads").toGenericDict();

  auto out = m->forward(source, pm);
  auto real = (~out.padding_mask).transpose(0, 1).unsqueeze(-1);  // [T, B, 1]
  (out.logits.masked_fill(~real, 0) * w.transpose(0, 1) * real).sum().backward();
  size_t compared = 0;
  for (const auto& p : m->named_parameters()) {
    if (p.key() == "w2v_encoder.w2v_model.mask_emb") continue;  // not used without masking
    auto it = ref_grads.find(p.key());
    ASSERT_NE(it, ref_grads.end()) << p.key();
    auto ref = it->value().toTensor();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    // 1e-3 relative to the tensor's largest gradient; the absolute floor covers k_proj.bias,
    // whose true gradient is zero (softmax ignores a per-query constant), so both sides hold noise.
    EXPECT_LE(max_abs_diff(p.value().grad(), ref), 1e-3 * ref.abs().max().item<double>() + 1e-7) << p.key();
    ++compared;
  }
  EXPECT_EQ(compared, ref_grads.size());
}

}  // namespace

TEST(ModelTraining, GeluGradientIsRightForNonContiguousGradients) {
  torch::manual_seed(20);
  auto x = torch::randn({2, 16, 37}).requires_grad_();
  auto g = torch::randn({2, 37, 16}).transpose(1, 2);  // the layout a following transpose produces
  w2v::model::gelu(x).backward(g);
  auto xd = x.detach().to(torch::kDouble).requires_grad_();
  (0.5 * xd * (1 + torch::erf(xd / std::sqrt(2.0)))).backward(g.to(torch::kDouble));
  EXPECT_LE(max_abs_diff(x.grad(), xd.grad()), 1e-5);
}

TEST(ModelTraining, GradientsMatchTorchaudioBaseFamily) { expect_gradient_parity("base"); }

TEST(ModelTraining, GradientsMatchTorchaudioLargeLvFamily) { expect_gradient_parity("large_lv"); }

TEST(ModelTraining, DropoutAndLayerdropOnlyInTraining) {
  at::set_num_threads(1);
  torch::manual_seed(22);
  auto cfg = small_config("base");
  auto noisy = cfg;
  noisy.dropout = noisy.attention_dropout = noisy.activation_dropout = 0.3;
  noisy.dropout_input = noisy.dropout_features = 0.3;
  noisy.encoder_layerdrop = 0.5;
  Wav2VecCtc clean(cfg, 5), m(noisy, 5);
  {
    torch::NoGradGuard no_grad;
    auto src = clean->named_parameters();
    for (auto& p : m->named_parameters()) p.value().copy_(src[p.key()]);
  }
  auto source = 0.3 * torch::randn({1, 4000});
  torch::NoGradGuard no_grad;
  clean->eval();
  m->eval();
  auto ref = clean->forward(source).logits;
  EXPECT_TRUE(m->forward(source).logits.equal(ref));
  EXPECT_TRUE(m->forward(source).logits.equal(ref));
  m->train();
  EXPECT_GT(max_abs_diff(m->forward(source).logits, ref), 1e-3);
}

TEST(ModelTraining, LayerdropSkipsWholeLayersAtItsRate) {
  at::set_num_threads(1);
  torch::manual_seed(23);
  auto cfg = small_config("base");
  cfg.encoder_layers = 4;
  cfg.encoder_layerdrop = 0.3;
  Wav2Vec2Model m(cfg);
  m->train();
  torch::NoGradGuard no_grad;
  auto source = 0.3 * torch::randn({1, 2000});
  auto features = m->extract_features(source);
  const int n = 300;
  int64_t executed = 0;
  int all_skipped = 0;
  for (int i = 0; i < n; ++i) {
    auto f = m->extract_features(source);
    executed += static_cast<int64_t>(f.layer_results.size());
    if (f.layer_results.empty()) {
      ++all_skipped;
      // No layer ran: the output is the encoder input path alone (pos_conv + LayerNorm).
      auto pre = m->post_extract_proj->forward(m->layer_norm->forward(m->feature_extractor->forward(source).transpose(1, 2)));
      auto expect = m->encoder->layer_norm->forward(pre + m->encoder->pos_conv->forward(pre));
      EXPECT_LE(max_abs_diff(f.x, expect), 1e-5);
    }
  }
  // Binomial(4n, 0.7): mean 840, sd ~15.9; 5 sd bounds.
  EXPECT_NEAR(static_cast<double>(executed), 0.7 * 4 * n, 5 * std::sqrt(4 * n * 0.7 * 0.3));
  // P(all 4 skipped) = 0.3^4 = 0.0081 -> about 2.4 of 300.
  EXPECT_LE(all_skipped, 12);
}

TEST(ModelTraining, FeatureGradMultScalesExtractorGradients) {
  at::set_num_threads(1);
  auto grads = [](double mult) {
    torch::manual_seed(24);
    auto cfg = small_config("base");
    cfg.feature_grad_mult = mult;
    Wav2VecCtc m(cfg, 5);
    m->eval();
    auto source = 0.3 * torch::randn({1, 3000});
    m->forward(source).logits.pow(2).sum().backward();
    auto& fe = m->w2v_encoder->w2v_model->feature_extractor;
    return std::make_pair(fe->named_parameters()["conv_layers.1.0.weight"].grad(),
                          m->w2v_encoder->proj->weight.grad().clone());
  };
  auto [g1, p1] = grads(1.0);
  auto [g01, p01] = grads(0.1);
  auto [g0, p0] = grads(0.0);
  ASSERT_TRUE(g1.defined() && g01.defined());
  EXPECT_GT(g1.abs().max().item<double>(), 0.0);
  EXPECT_LE(max_abs_diff(g01, g1 * 0.1), 1e-6 * g1.abs().max().item<double>() + 1e-9);
  EXPECT_FALSE(g0.defined());  // frozen extractor: no autograd at all
  EXPECT_LE(max_abs_diff(p1, p0), 1e-5);
  EXPECT_LE(max_abs_diff(p1, p01), 1e-5);
}

TEST(ModelTraining, FreezeFinetuneUpdatesTrainsOnlyProj) {
  at::set_num_threads(1);
  torch::manual_seed(25);
  auto cfg = small_config("base");
  Wav2Vec2AsrOptions opts;
  opts.freeze_finetune_updates = 10;
  Wav2VecCtc m(cfg, 5, opts);
  m->train();
  auto source = 0.3 * torch::randn({1, 3000});
  m->set_num_updates(9);
  m->forward(source).logits.pow(2).sum().backward();
  EXPECT_TRUE(m->w2v_encoder->proj->weight.grad().defined());
  for (const auto& p : m->w2v_encoder->w2v_model->named_parameters())
    EXPECT_FALSE(p.value().grad().defined()) << p.key();
  m->set_num_updates(10);
  m->forward(source).logits.pow(2).sum().backward();
  EXPECT_TRUE(m->w2v_encoder->w2v_model->encoder->layer_norm->weight.grad().defined());
}

TEST(ModelTraining, MasksReplaceFramesAndZeroChannelsOnlyWhenApplyMaskInTraining) {
  at::set_num_threads(1);
  torch::manual_seed(26);
  auto cfg = small_config("base");
  cfg.encoder_layers = 1;
  Wav2Vec2Model m(cfg);
  m->eval();
  torch::NoGradGuard no_grad;
  auto source = 0.3 * torch::randn({2, 3000});
  auto f = m->extract_features(source);
  const int64_t T = f.x.size(1);
  auto mask = torch::zeros({2, T}, torch::kBool);
  mask[0][2] = mask[1][5] = true;
  auto channels = torch::zeros({2, cfg.encoder_embed_dim}, torch::kBool);
  channels[0][3] = channels[1][7] = true;
  // Reconstruct the transformer input by hand and compare against the masked run.
  auto proj = m->post_extract_proj->forward(f.unmasked_features);
  auto manual = proj.clone();
  manual[0][2] = m->mask_emb;
  manual[1][5] = m->mask_emb;
  manual.select(2, 3)[0].zero_();
  manual.select(2, 7)[1].zero_();
  auto expect = m->encoder->forward(manual, {}).x;
  auto masked = m->extract_features(source, {}, mask, channels);
  EXPECT_LE(max_abs_diff(masked.x, expect), 1e-5);
  EXPECT_GT(max_abs_diff(masked.x, f.x), 1e-3);
  EXPECT_TRUE(masked.unmasked_features.equal(f.unmasked_features));

  // The CTC wrapper ignores masks in eval and without apply_mask.
  Wav2VecCtc plain(cfg, 5);
  Wav2Vec2AsrOptions opts;
  opts.apply_mask = true;
  Wav2VecCtc masking(cfg, 5, opts);
  for (auto* c : {&plain, &masking}) {
    auto src = m->named_parameters();
    for (auto& p : (*c)->w2v_encoder->w2v_model->named_parameters()) p.value().copy_(src[p.key()]);
  }
  masking->w2v_encoder->proj->weight.copy_(plain->w2v_encoder->proj->weight);
  masking->w2v_encoder->proj->bias.copy_(plain->w2v_encoder->proj->bias);
  for (auto* c : {&plain, &masking}) (*c)->train();
  auto a = plain->forward(source, {}, mask, channels).logits;
  auto b = masking->forward(source, {}, mask, channels).logits;
  auto c = plain->forward(source).logits;
  EXPECT_TRUE(a.equal(c));
  EXPECT_GT(max_abs_diff(a, b), 1e-3);
  masking->eval();
  // Eval runs attention through other kernels than training (model/onednn.h): equal up to rounding.
  EXPECT_LT(max_abs_diff(masking->forward(source, {}, mask, channels).logits, c), 1e-5);
}
