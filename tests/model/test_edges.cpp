// fairseq's edge knobs of the model: Wav2VecCtc's blank_weight / blank_mode (get_logits: the
// blank's logit raised or set before the padded frames are forced to blank, in training and
// inference alike, and kept by a saved checkpoint) and Wav2Vec2Model's crop_seq_to_multiple
// (the frames past the last whole multiple dropped after layer_norm, features_pen keeping them).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "checkpoint/model_io.h"
#include "model/ctc.h"
#include "oracle.h"

// In the namespace rather than `using namespace` at file scope (unity batches, see DEVELOPING.md).
namespace w2v::model {
namespace {

void copy_parameters(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto dst = to.named_parameters();
  for (const auto& p : from.named_parameters()) dst[p.key()].copy_(p.value());
}

// Finite entries equal to 1e-6, infinite ones identical.
void expect_same_logits(const torch::Tensor& a, const torch::Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_TRUE(torch::equal(torch::isinf(a), torch::isinf(b)));
  EXPECT_LE(w2v::test::max_abs_diff(a.masked_fill(torch::isinf(a), 0), b.masked_fill(torch::isinf(b), 0)), 1e-6);
}

}  // namespace

TEST(ModelEdges, BlankWeightShapesTheCtcLogitsAsFairseqGetLogitsAndIsSaved) {
  at::set_num_threads(1);
  torch::manual_seed(31);
  const auto cfg = w2v::test::small_config("base");
  const int64_t vocab = 6;
  Wav2VecCtc plain(cfg, vocab);
  plain->eval();
  auto source = 0.3 * torch::randn({2, 4000});
  auto padding = torch::zeros({2, 4000}, torch::kBool);
  padding[1].narrow(0, 2800, 1200).fill_(true);
  source.masked_fill_(padding, 0);
  const auto base = [&] {
    torch::NoGradGuard no_grad;
    return plain->forward(source, padding);
  }();
  ASSERT_TRUE(base.padding_mask.defined());
  const auto padded = base.padding_mask.transpose(0, 1);  // [T, B]

  for (const auto& [weight, mode] : std::vector<std::pair<double, std::string>>{{1.5, "add"}, {-2.0, "set"}}) {
    SCOPED_TRACE(mode);
    Wav2Vec2AsrOptions opts;
    opts.blank_weight = weight;
    opts.blank_mode = mode;
    Wav2VecCtc m(cfg, vocab, opts);
    copy_parameters(*plain, *m);
    m->eval();
    // fairseq: logits[..., 0] += w (add) or = w (set), then padded frames = [0, -inf, ...].
    auto expected = base.logits.clone();
    auto blank = expected.select(-1, 0);
    blank.copy_(torch::where(padded, blank, mode == "add" ? blank + weight : torch::full_like(blank, weight)));
    torch::NoGradGuard no_grad;
    const auto out = m->forward(source, padding);
    expect_same_logits(out.logits, expected);

    // Saved and loaded back (inference reads the model this way): the same knobs and logits.
    w2v::test::TempDir dir;
    ckpt::LoadedModel saved;
    saved.kind = ckpt::ModelKind::kCtc;
    saved.config = cfg;
    saved.asr = opts;
    saved.ctc = m;
    ckpt::save_model(dir.file("ctc.pt"), saved);
    auto loaded = ckpt::load_model(dir.file("ctc.pt"));
    EXPECT_EQ(loaded.asr.blank_weight, weight);
    EXPECT_EQ(loaded.asr.blank_mode, mode);
    loaded.ctc->eval();
    expect_same_logits(loaded.ctc->forward(source, padding).logits, expected);
  }
  // Training: "set" leaves the blank's logit without a gradient, "add" passes it through.
  Wav2Vec2AsrOptions set;
  set.blank_weight = 1.0;
  set.blank_mode = "set";
  Wav2VecCtc m(cfg, vocab, set);
  m->train();
  m->forward(source).logits.select(-1, 0).sum().backward();
  EXPECT_EQ(m->w2v_encoder->proj->weight.grad()[0].abs().sum().item<double>(), 0.0);
}

TEST(ModelEdges, CropSeqToMultipleDropsTheLastFramesAfterTheFeaturePenalty) {
  at::set_num_threads(1);
  torch::manual_seed(32);
  auto cfg = w2v::test::small_config("large_lv");  // layer-norm extractor: a frame sees its own window only
  Wav2Vec2Model plain(cfg, false);
  cfg.crop_seq_to_multiple = 4;
  Wav2Vec2Model cropped(cfg, false);
  copy_parameters(*plain, *cropped);
  plain->eval();
  cropped->eval();
  torch::NoGradGuard no_grad;
  const int64_t L = 7000;
  ASSERT_EQ(plain->output_length(L), 21);
  EXPECT_EQ(cropped->cropped_frames(21), 20);
  EXPECT_EQ(plain->cropped_frames(21), 21);
  auto source = 0.3 * torch::randn({2, L});
  auto padding = torch::zeros({2, L}, torch::kBool);
  padding[1].narrow(0, 5000, L - 5000).fill_(true);  // row 1: 15 frames
  source.masked_fill_(padding, 0);
  const auto f = cropped->extract_features(source, padding);
  ASSERT_EQ(f.x.size(1), 20);
  ASSERT_EQ(f.unmasked_features.size(1), 20);
  ASSERT_EQ(f.padding_mask.size(1), 20);
  EXPECT_EQ(f.padding_mask[1].sum().item<int64_t>(), 5);
  // The 20 kept frames are what the plain model makes of the audio those frames cover.
  const int64_t kept = 19 * 320 + 400;
  const auto g = plain->extract_features(source.narrow(1, 0, kept), padding.narrow(1, 0, kept));
  EXPECT_LE(w2v::test::max_abs_diff(f.x, g.x), 1e-5);
  EXPECT_TRUE(torch::equal(f.padding_mask, g.padding_mask));
  // fairseq takes features_pen before the crop: over all 21 frames.
  EXPECT_NEAR(f.features_pen.item<double>(), plain->extract_features(source, padding).features_pen.item<double>(),
              1e-6);
  EXPECT_GT(std::abs(f.features_pen.item<double>() - g.features_pen.item<double>()), 1e-6);
}

}  // namespace w2v::model
