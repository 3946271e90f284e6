// Parity of the encoder, feature extractor and CTC head with torchaudio 0.13's Wav2Vec2Model
// (tools/oracle/model_torchaudio.py, run live): same random weights, fp32, max abs error 1e-4;
// the same bound for the inference-prepared fp32 model (Wav2VecCtc::prepare, precision.h).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/ctc.h"
#include "oracle.h"

using namespace w2v::model;
using namespace w2v::test;

namespace {

c10::Dict<std::string, at::Tensor> state_dict(const torch::nn::Module& m) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& p : m.named_parameters()) d.insert(p.key(), p.value().detach().clone());
  return d;
}

// Waveform-like input: noise with a slowly varying envelope.
at::Tensor audio(int64_t B, int64_t L) {
  auto t = torch::arange(L, torch::kFloat).unsqueeze(0) / 1600.0;
  return 0.3 * torch::randn({B, L}) * (1.1 + torch::sin(t + torch::arange(B).unsqueeze(1)));
}

at::Tensor sample_padding_mask(const std::vector<int64_t>& lengths, int64_t L) {
  auto len = torch::tensor(lengths, torch::kLong);
  return torch::arange(L, torch::kLong).unsqueeze(0) >= len.unsqueeze(1);
}

struct Run {
  c10::impl::GenericDict ref = new_dict();
  Wav2Vec2Features ours;
  CtcOutput ctc;
  at::Tensor conv;
};

// Runs our CTC model and the oracle on the same weights and input.
Run run_both(Wav2VecCtc& m, const Wav2Vec2Config& cfg, const at::Tensor& source, const std::vector<int64_t>& lengths) {
  m->eval();
  TempDir dir;
  IDict in = new_dict();
  in.insert("config", config_json(cfg));
  in.insert("vocab", m->vocab_size());
  in.insert("state", state_dict(*m));
  in.insert("source", source);
  in.insert("threads", static_cast<int64_t>(at::get_num_threads()));
  at::Tensor pm;
  if (!lengths.empty()) {
    in.insert("lengths", torch::tensor(lengths, torch::kLong));
    pm = sample_padding_mask(lengths, source.size(1));
  }
  save_dict(dir.file("in.pt"), in);
  run_oracle("model_torchaudio.py", dir.file("in.pt"), dir.file("out.pt"));
  Run r;
  r.ref = load_dict(dir.file("out.pt"));
  torch::NoGradGuard no_grad;
  auto& w2v = m->w2v_encoder->w2v_model;
  r.conv = w2v->feature_extractor->forward(source);
  r.ours = w2v->extract_features(source, pm);
  r.ctc = m->forward(source, pm);
  return r;
}

void expect_parity(const Run& r, int64_t layers, const std::vector<int64_t>& frames) {
  // frames[b] = real frames of row b; compare only those (padded frames are undefined in both).
  auto ref_layers = r.ref.at("layers").toList();
  ASSERT_EQ(static_cast<int64_t>(ref_layers.size()), layers);
  ASSERT_EQ(static_cast<int64_t>(r.ours.layer_results.size()), layers);
  auto ref_logits = get_tensor(r.ref, "logits");  // [B, T, V]
  for (size_t b = 0; b < frames.size(); ++b) {
    const int64_t T = frames[b];
    auto row = [&](const at::Tensor& t, int64_t dim) { return t.select(0, b).narrow(dim, 0, T); };
    EXPECT_LE(max_abs_diff(row(r.conv, 1), row(get_tensor(r.ref, "conv"), 1)), 1e-4) << "conv, row " << b;
    for (int64_t j = 0; j < layers; ++j)
      EXPECT_LE(max_abs_diff(row(r.ours.layer_results[j], 0), row(ref_layers.get(j).toTensor(), 0)), 1e-4)
          << "layer " << j << ", row " << b;
    EXPECT_LE(max_abs_diff(row(r.ours.x, 0), row(get_tensor(r.ref, "x"), 0)), 1e-4) << "encoder x, row " << b;
    EXPECT_LE(max_abs_diff(r.ctc.logits.select(1, b).narrow(0, 0, T), row(ref_logits, 0)), 1e-4)
        << "logits, row " << b;
  }
}

}  // namespace

class ModelParity : public ::testing::Test {
 protected:
  void SetUp() override { at::set_num_threads(2); }
};

TEST_F(ModelParity, SmallBaseFamilyCtc) {
  torch::manual_seed(1);
  auto cfg = small_config("base");
  cfg.feature_grad_mult = 0.0;
  Wav2VecCtc m(cfg, 7);
  auto source = audio(2, 8000);
  auto r = run_both(m, cfg, source, {});
  expect_parity(r, 3, {24, 24});
}

TEST_F(ModelParity, SmallLargeLvFamilyCtc) {
  torch::manual_seed(2);
  auto cfg = small_config("large_lv");
  Wav2VecCtc m(cfg, 9);
  auto r = run_both(m, cfg, audio(2, 6400), {});
  expect_parity(r, 3, {19, 19});
}

TEST_F(ModelParity, PaddedBatchGroupNorm) {
  torch::manual_seed(3);
  auto cfg = small_config("base");
  Wav2VecCtc m(cfg, 7);
  const int64_t L = 9000, short_len = 5300;
  auto source = audio(2, L);
  source[1].narrow(0, short_len, L - short_len).zero_();  // zero padding as fairseq's collater
  auto r = run_both(m, cfg, source, {L, short_len});
  const int64_t t_long = conv_output_length(cfg.conv_layers(), L), t_short = conv_output_length(cfg.conv_layers(), short_len);
  ASSERT_TRUE(r.ctc.padding_mask.defined());
  EXPECT_EQ(r.ctc.padding_mask.sum(1)[1].item<int64_t>(), t_long - t_short);
  EXPECT_EQ(r.ctc.padding_mask.sum(1)[0].item<int64_t>(), 0);
  EXPECT_TRUE(get_tensor(r.ref, "frame_lengths").equal(torch::tensor({t_long, t_short}, torch::kLong)));
  expect_parity(r, 3, {t_long, t_short});
  // Padded frames put all mass on blank.
  auto pad_rows = r.ctc.logits.select(1, 1).narrow(0, t_short, t_long - t_short);
  EXPECT_TRUE(pad_rows.select(1, 0).eq(0).all().item<bool>());
  EXPECT_TRUE(pad_rows.narrow(1, 1, 6).isinf().all().item<bool>());
}

TEST_F(ModelParity, PaddedBatchLayerNormIsPaddingInvariant) {
  torch::manual_seed(4);
  auto cfg = small_config("large_lv");
  Wav2VecCtc m(cfg, 9);
  const int64_t L = 8000, short_len = 4100;
  auto source = audio(2, L);
  source[1].narrow(0, short_len, L - short_len).zero_();
  auto r = run_both(m, cfg, source, {L, short_len});
  const int64_t t_long = conv_output_length(cfg.conv_layers(), L), t_short = conv_output_length(cfg.conv_layers(), short_len);
  expect_parity(r, 3, {t_long, t_short});
  // The short utterance alone gives the same real frames as inside the padded batch.
  torch::NoGradGuard no_grad;
  auto alone = m->forward(source[1].narrow(0, 0, short_len).unsqueeze(0));
  ASSERT_EQ(alone.logits.size(0), t_short);
  EXPECT_LE(max_abs_diff(alone.logits.select(1, 0), r.ctc.logits.select(1, 1).narrow(0, 0, t_short)), 1e-4);
}

TEST_F(ModelParity, FullDepthBase) {
  torch::manual_seed(5);
  auto cfg = Wav2Vec2Config::preset("base");
  cfg.feature_grad_mult = 0.0;
  Wav2VecCtc m(cfg, 32);
  auto r = run_both(m, cfg, audio(1, 16000), {});
  expect_parity(r, 12, {49});
}

TEST_F(ModelParity, PreparedFp32SmallBaseFamily) {
  torch::manual_seed(1);
  auto cfg = small_config("base");
  Wav2VecCtc m(cfg, 7);
  m->eval();
  m->prepare(Precision::kFp32);
  expect_parity(run_both(m, cfg, audio(2, 8000), {}), 3, {24, 24});
}

TEST_F(ModelParity, PreparedFp32PaddedBatchLayerNorm) {
  torch::manual_seed(4);
  auto cfg = small_config("large_lv");
  Wav2VecCtc m(cfg, 9);
  m->eval();
  m->prepare(Precision::kFp32);
  const int64_t L = 8000, short_len = 4100;
  auto source = audio(2, L);
  source[1].narrow(0, short_len, L - short_len).zero_();
  auto r = run_both(m, cfg, source, {L, short_len});
  expect_parity(r, 3, {conv_output_length(cfg.conv_layers(), L), conv_output_length(cfg.conv_layers(), short_len)});
}

TEST_F(ModelParity, LayerArgumentStopsAfterThatLayer) {
  torch::manual_seed(6);
  auto cfg = small_config("large_lv");
  Wav2Vec2Model m(cfg);
  m->eval();
  torch::NoGradGuard no_grad;
  auto source = audio(1, 4000);
  auto all = m->extract_features(source);
  auto upto1 = m->extract_features(source, {}, {}, {}, 1);
  ASSERT_EQ(upto1.layer_results.size(), 2u);
  // Pre-LN: the full output has the final LayerNorm, an intermediate one does not.
  EXPECT_TRUE(upto1.x.equal(all.layer_results[1]));
  EXPECT_GT(max_abs_diff(all.x, all.layer_results[2]), 1e-3);
  EXPECT_LE(max_abs_diff(m->encoder->layer_norm->forward(all.layer_results[2]), all.x), 1e-6);
}
