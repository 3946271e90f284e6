// Parity and property tests of the training pieces: masks, negatives, criteria, Adam, LR.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "config/config.h"
#include "data/dictionary.h"
#include "train/adam.h"
#include "train/contrastive_criterion.h"
#include "train/ctc_criterion.h"
#include "train/lr_scheduler.h"
#include "train/masking.h"
#include "train/negatives.h"
#include "train/oracle.h"
#include "train/task.h"
#include "util/error.h"

// Inside the namespace rather than `using namespace` at file scope, which would leak into the
// other tests compiled with it in one unity batch.
namespace w2v::train {

using nlohmann::json;
using w2v::test::decode;
using w2v::test::encode;
using w2v::test::max_rel_error;
using w2v::test::run_oracle;

namespace {

// Records every draw so that the Python reference can replay them.
class RecordingRandom : public MaskRandom {
 public:
  explicit RecordingRandom(uint64_t seed) : rng_(seed) {}
  double uniform() override { return log_(uniforms, rng_.uniform()); }
  int64_t below(int64_t n) override { return log_(belows, rng_.below(n)); }
  double normal(double m, double s) override { return rng_.normal(m, s); }
  int64_t poisson(double m) override { return rng_.poisson(m); }
  std::vector<int64_t> choose(int64_t n, int64_t k) override {
    auto c = rng_.choose(n, k);
    chooses.push_back(c);
    return c;
  }
  json uniforms = json::array(), belows = json::array(), chooses = json::array();

 private:
  template <class T>
  T log_(json& j, T v) {
    j.push_back(v);
    return v;
  }
  Rng rng_;
};

}  // namespace

TEST(Masking, MatchesReferenceGivenTheSameDraws) {
  struct Case {
    std::vector<int64_t> lengths;
    MaskOptions o;
  };
  std::vector<Case> cases;
  cases.push_back({{50, 50, 50, 50}, {}});                       // no padding, static
  cases.push_back({{60, 41, 55}, {}});                           // padded rows
  cases.back().o.min_masks = 2;
  cases.push_back({{25, 30}, {}});                               // min_masks dominates
  cases.back().o.min_masks = 2;
  cases.back().o.prob = 0.05;
  cases.push_back({{768, 768}, {}});                             // channel masks: p 0.5, l 64
  cases.back().o.prob = 0.5;
  cases.back().o.length = 64;
  cases.push_back({{80, 70}, {}});                               // uniform lengths + dropout
  cases.back().o.selection = "uniform";
  cases.back().o.other = 2;
  cases.back().o.mask_dropout = 0.1;
  cases.push_back({{40, 35}, {}});                               // no equalization
  cases.back().o.require_same_masks = false;
  json request = json::array();
  std::vector<std::vector<std::vector<int64_t>>> ours;
  for (size_t c = 0; c < cases.size(); ++c) {
    for (uint64_t seed = 0; seed < 5; ++seed) {
      RecordingRandom rng(seed * 31 + c);
      ours.push_back(compute_mask_indices(cases[c].lengths, cases[c].o, rng));
      request.push_back({{"valid_lengths", cases[c].lengths}, {"prob", cases[c].o.prob},
                         {"length", cases[c].o.length}, {"min_masks", cases[c].o.min_masks},
                         {"selection", cases[c].o.selection}, {"other", cases[c].o.other},
                         {"require_same_masks", cases[c].o.require_same_masks},
                         {"mask_dropout", cases[c].o.mask_dropout}, {"uniform", rng.uniforms},
                         {"below", rng.belows}, {"choose", rng.chooses}});
    }
  }
  const json ref = run_oracle("train_masking.py", request);
  ASSERT_EQ(ref.size(), ours.size());
  for (size_t c = 0; c < ours.size(); ++c) {
    ASSERT_EQ(ref[c]["rows"].size(), ours[c].size());
    for (size_t i = 0; i < ours[c].size(); ++i)
      EXPECT_EQ(ref[c]["rows"][i].get<std::vector<int64_t>>(), ours[c][i]) << "case " << c << " row " << i;
  }
}

// fairseq's apply_mask passes require_same_masks and mask_dropout to the time masks only; the
// channel masks keep compute_mask_indices' defaults: every row the same count, no dropout.
TEST(Masking, ChannelMasksEqualiseAsFairseqWhateverTheTimeMaskKnobs) {
  const auto cfg = config::Config::load(
      std::string(W2V_SOURCE_DIR) + "/configs/finetuning/base_100h.yaml",
      {"task.data=/unused", "model.w2v_path=/unused.pt", "model.require_same_masks=false", "model.mask_dropout=0.2",
       "model.mask_channel_prob=0.5", "model.mask_channel_length=8"});
  const Task::Masks m = Task::read_masks(cfg);
  EXPECT_FALSE(m.time.require_same_masks);
  EXPECT_EQ(m.time.mask_dropout, 0.2);
  EXPECT_EQ(m.time.min_masks, 2);
  json request = json::array();
  std::vector<std::vector<std::vector<int64_t>>> ours;
  const std::vector<int64_t> channels(4, 48);  // B = 4 rows of D = 48 channels
  for (uint64_t seed = 0; seed < 8; ++seed) {
    RecordingRandom rng(seed + 100);
    ours.push_back(compute_mask_indices(channels, m.channel, rng));
    for (const auto& row : ours.back()) EXPECT_EQ(row.size(), ours.back()[0].size());
    // fairseq's call: compute_mask_indices((B, C), None, mask_channel_prob, mask_channel_length,
    // mask_channel_selection, mask_channel_other), everything else at its default.
    request.push_back({{"valid_lengths", channels}, {"prob", 0.5}, {"length", 8}, {"min_masks", 0},
                       {"selection", "static"}, {"other", 0.0}, {"require_same_masks", true},
                       {"mask_dropout", 0.0}, {"uniform", rng.uniforms}, {"below", rng.belows},
                       {"choose", rng.chooses}});
  }
  const json ref = run_oracle("train_masking.py", request);
  ASSERT_EQ(ref.size(), ours.size());
  for (size_t c = 0; c < ours.size(); ++c)
    for (size_t i = 0; i < ours[c].size(); ++i)
      EXPECT_EQ(ref[c]["rows"][i].get<std::vector<int64_t>>(), ours[c][i]) << "draw " << c << " row " << i;
}

// Keys w2v implements for some values only warn for the others (the published configs' values
// stay silent); a key accepted without any effect warns whenever a config sets it.
TEST(TrainSettings, KeysWithoutEffectWarn) {
  const std::string path = std::string(W2V_SOURCE_DIR) + "/configs/pretraining/wav2vec2_base_librispeech.yaml";
  const auto published = config::Config::load(path, {"task.data=/unused"});
  EXPECT_TRUE(read_train_settings(published).warnings.empty());
  const auto other = config::Config::load(
      path, {"task.data=/unused", "common.log_format=tqdm", "criterion.log_keys=[temp,features_pen]",
             "dataset.fixed_validation_seed=7", "model.required_seq_len_multiple=4"});
  const auto w = read_train_settings(other).warnings;
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("common.log_format=tqdm"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("'features_pen'"), std::string::npos) << w[1];
  size_t ignored = 0;
  for (const auto& line : other.warnings())
    if (line.find("dataset.fixed_validation_seed") != std::string::npos ||
        line.find("model.required_seq_len_multiple") != std::string::npos)
      ++ignored;
  EXPECT_EQ(ignored, 2u);
}

TEST(Masking, Properties) {
  // Spec 2.1: p = 0.65, l = 10 masks about 49 % of frames; padded frames never; equal counts.
  MaskOptions o;
  o.min_masks = 2;
  Rng rng(7);
  double masked = 0, total = 0;
  for (int it = 0; it < 200; ++it) {
    std::vector<int64_t> lens{500, 430, 499};
    const auto rows = compute_mask_indices(lens, o, rng);
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].size(), rows[0].size());
      EXPECT_TRUE(std::is_sorted(rows[i].begin(), rows[i].end()));
      EXPECT_LT(rows[i].back(), lens[i]);
      EXPECT_EQ(std::set<int64_t>(rows[i].begin(), rows[i].end()).size(), rows[i].size());
    }
    masked += static_cast<double>(rows[0].size());
    total += 430;  // the shortest row sets the common count
  }
  // Without equalization the expected fraction is 1 - (1 - 0.065)^10 ~ 0.49 minus edge
  // effects; equalization to the row minimum pulls it lower. Loose bounds, 600 rows.
  EXPECT_GT(masked / total, 0.40);
  EXPECT_LT(masked / total, 0.52);
  const auto t = mask_tensor(compute_mask_indices({20, 15}, o, rng), 20);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 20}));
  EXPECT_FALSE(t[1].slice(0, 15).any().item<bool>());
  EXPECT_THROW(compute_mask_indices({1}, o, rng), w2v::Error);
  o.selection = "gaussian";
  EXPECT_THROW(compute_mask_indices({50}, o, rng), w2v::Error);
}

TEST(Negatives, UniformOverOtherMaskedFramesOfTheUtterance) {
  Rng rng(3);
  const int64_t B = 3, M = 7, K = 50;
  const auto idx = sample_negatives(B, M, K, rng);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{B, M * K}));
  auto acc = idx.accessor<int64_t, 2>();
  std::vector<int64_t> hist(M * B, 0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < M; ++t)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t j = acc[b][t * K + k];
        EXPECT_GE(j, b * M);
        EXPECT_LT(j, (b + 1) * M);
        EXPECT_NE(j, b * M + t);  // never the positive itself
        ++hist[j];
      }
  // Each target is drawn by the other M-1 positions with probability 1/(M-1): K draws each.
  for (int64_t j = 0; j < M * B; ++j) EXPECT_NEAR(hist[j], K, 4 * std::sqrt(K)) << j;
  EXPECT_THROW(sample_negatives(2, 1, 5, rng), w2v::Error);
}

TEST(ContrastiveCriterion, MatchesReferenceWithGradients) {
  torch::manual_seed(0);
  const int64_t K = 6, B = 3, M = 5;
  struct Ours {
    CriterionResult r;
    torch::Tensor grad_logits, grad_pp, grad_pen;
  };
  std::vector<Ours> ours;
  json request = json::array();
  // Weights: both extra losses, penalty off, single entry (weighs both), diversity off (the
  // penalty becomes loss_1), none (no loss_<i> keys).
  const std::vector<std::vector<double>> weights{{0.1, 10}, {0.1, 0}, {0.1, 10}, {0.5}, {0, 10}, {}};
  for (int variant = 0; variant < static_cast<int>(weights.size()); ++variant) {
    auto logits = (torch::randn({1 + K, B, M}) * 3).requires_grad_();
    {
      torch::NoGradGuard g;
      logits[2][1][3] = -INFINITY;  // neg_is_pos
      logits[4][0][0] = -INFINITY;
      if (variant == 2) logits.select(1, 2).select(1, 4).fill_(1.5);  // all-equal row
    }
    auto pp = torch::tensor(123.4, torch::kFloat).requires_grad_();
    auto pen = torch::tensor(0.37, torch::kFloat).requires_grad_();
    const std::vector<double>& w = weights[variant];
    ContrastiveCriterion crit(w);
    auto r = crit(logits, pp, 640, pen);
    r.loss.backward();
    ours.push_back({r, logits.grad(), pp.grad(), pen.grad()});
    request.push_back({{"logits", encode(logits)}, {"prob_perplexity", 123.4f}, {"features_pen", 0.37f},
                       {"num_vars", 640}, {"loss_weights", w}});
  }
  const json refs = run_oracle("train_contrastive.py", request);
  ASSERT_EQ(refs.size(), ours.size());
  for (size_t v = 0; v < ours.size(); ++v) {
    const json& ref = refs[v];
    auto& r = ours[v].r;
    const double loss = ref["loss"].get<double>();
    EXPECT_NEAR(r.loss.item<double>(), loss, 1e-4 * std::abs(loss));
    for (const std::string key : {"loss_0", "loss_1", "loss_2"}) {
      ASSERT_EQ(r.logging.count(key), ref.contains(key) ? 1u : 0u) << key << " variant " << v;
      if (ref.contains(key)) EXPECT_NEAR(r.logging[key], ref[key].get<double>(), 1e-4 * std::abs(loss)) << key;
    }
    EXPECT_EQ(r.sample_size, ref["sample_size"].get<double>());
    EXPECT_EQ(r.logging["correct"], ref["correct"].get<double>());
    EXPECT_EQ(r.logging["count"], ref["count"].get<double>());
    EXPECT_LT(max_rel_error(ours[v].grad_logits, decode(ref["grad_logits"])), 1e-4);
    EXPECT_NEAR(ours[v].grad_pp.defined() ? ours[v].grad_pp.item<double>() : 0.0,
                ref["grad_prob_perplexity"].get<double>(), 1e-6);
    EXPECT_NEAR(ours[v].grad_pen.defined() ? ours[v].grad_pen.item<double>() : 0.0,
                ref["grad_features_pen"].get<double>(), 1e-4);
  }
}

TEST(CtcCriterion, MatchesTorchCtcLossIncludingImpossibleTargets) {
  torch::manual_seed(1);
  const int64_t T = 12, B = 4, V = 8;
  auto logits = torch::randn({T, B, V}).requires_grad_();
  auto pad = torch::zeros({B, T}, torch::kBool);
  pad[1].slice(0, 9).fill_(true);  // 9 frames
  pad[3].slice(0, 4).fill_(true);  // 4 frames: target below is impossible
  // Rows padded with <pad>=1; row 2 has a repeated letter; row 3 needs 6 frames.
  auto target = torch::tensor({4, 5, 6, 7, 1, 1, 1,    //
                               5, 5, 4, 1, 1, 1, 1,    //
                               6, 6, 6, 4, 5, 1, 1,    //
                               4, 5, 6, 7, 4, 5, 1},
                              torch::kLong).reshape({B, 7});
  for (bool zero_inf : {true, false}) {
    if (logits.grad().defined()) logits.mutable_grad().zero_();
    CtcCriterion crit(zero_inf, /*sentence_avg=*/true);
    auto r = crit(logits, pad, target);
    EXPECT_EQ(r.logging["impossible"], 1);
    EXPECT_EQ(r.sample_size, 4);
    EXPECT_EQ(r.logging["ntokens"], 4 + 3 + 5 + 6);
    json req{{"logits", encode(logits)}, {"target", encode(target)}, {"padding_mask", encode(pad)},
             {"zero_infinity", zero_inf}};
    const json ref = run_oracle("train_ctc.py", req);
    const auto per_utt = decode(ref["per_utterance"]);
    EXPECT_TRUE(std::isinf(per_utt[3].item<double>()));  // the reference agrees it is impossible
    if (!zero_inf) {
      EXPECT_TRUE(std::isinf(r.loss.item<double>()));
      EXPECT_TRUE(std::isinf(decode(ref["loss"]).item<double>()));
      continue;
    }
    const double loss = decode(ref["loss"]).item<double>();
    EXPECT_NEAR(r.loss.item<double>(), loss, 1e-4 * std::abs(loss));
    r.loss.backward();
    EXPECT_LT(max_rel_error(logits.grad(), decode(ref["grad_logits"])), 1e-4);
  }
  CtcCriterion tokens(true, /*sentence_avg=*/false);
  EXPECT_EQ(tokens(logits, pad, target).sample_size, 18);
}

TEST(CtcCriterion, ValidationErrorsCountUnitsAndWords) {
  w2v::data::Dictionary dict;
  const int64_t bar = dict.add("|"), A = dict.add("A"), B = dict.add("B");
  // Frames: A A <blank> A | B B -> tokens A A | B -> words "AA B"; reference "A B".
  std::vector<int64_t> path{A, A, 0, A, bar, B, B};
  auto logits = torch::full({7, 1, dict.size()}, -5.0);
  for (size_t t = 0; t < path.size(); ++t) logits[t][0][path[t]] = 5.0;
  auto target = torch::tensor({A, bar, B, bar, w2v::data::Dictionary::kPad}, torch::kLong).reshape({1, 5});
  CtcCriterion crit(true, true);
  auto e = crit.validation_errors(logits, {}, target, dict);
  EXPECT_EQ(e["c_total"], 4);
  EXPECT_EQ(e["c_errors"], 2);  // hyp A A | B vs ref A | B |: one insertion, one deletion
  EXPECT_EQ(e["w_total"], 2);
  EXPECT_EQ(e["w_errors"], 1);  // AA vs A
  EXPECT_EQ(e["wv_errors"], 1);
}

TEST(CtcCriterion, LmDecoderWordsGiveWerAndGreedyWordsRawWer) {
  w2v::data::Dictionary dict;
  const int64_t bar = dict.add("|"), A = dict.add("A"), B = dict.add("B");
  // Two utterances, the second padded after 3 of its 5 frames; greedy words: "A B" and "B".
  std::vector<std::vector<int64_t>> paths{{A, bar, B, B, bar}, {B, B, bar, A, A}};
  auto logits = torch::full({5, 2, dict.size()}, -3.0);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 5; ++t) logits[t][b][paths[b][t]] = 4.0 + static_cast<double>(t);
  auto pad = torch::zeros({2, 5}, torch::kBool);
  pad[1].slice(0, 3).fill_(true);
  const int64_t P = w2v::data::Dictionary::kPad;
  auto target = torch::tensor({A, bar, B, bar, A, bar, P, P}, torch::kLong).reshape({2, 4});  // "A B", "A"
  std::vector<int64_t> frames_seen;
  std::vector<float> first_rows;
  w2v::train::WordDecoder lm = [&](const float* lp, int64_t frames, int64_t vocab) {
    frames_seen.push_back(frames);
    EXPECT_EQ(vocab, dict.size());
    for (int64_t t = 0; t < frames; ++t) {
      double z = 0;
      for (int64_t v = 0; v < vocab; ++v) z += std::exp(lp[t * vocab + v]);
      EXPECT_NEAR(z, 1.0, 1e-5);  // log-probabilities, not logits
    }
    first_rows.push_back(lp[0 * vocab + A]);
    // Utterance 0: three wrong words; utterance 1: exactly the reference.
    return frames == 5 ? std::vector<std::string>{"B", "B", "B"} : std::vector<std::string>{"A"};
  };
  CtcCriterion crit(true, true);
  auto e = crit.validation_errors(logits, pad, target, dict, lm);
  ASSERT_EQ(frames_seen, (std::vector<int64_t>{5, 3}));
  // The rows handed over are each utterance's own frames (A is utterance 0's first best token).
  EXPECT_GT(first_rows[0], first_rows[1]);
  EXPECT_EQ(e["w_total"], 3);
  EXPECT_EQ(e["wv_errors"], 1);     // "A B" right, "B" vs "A" one substitution
  EXPECT_EQ(e["w_errors"], 2);     // "B B B" vs "A B": 2 errors; "A" vs "A": 0
}

TEST(Adam, MatchesFairseqFormula) {
  torch::manual_seed(2);
  std::vector<torch::Tensor> params{torch::randn({3, 4}).requires_grad_(), torch::randn({5}).requires_grad_()};
  json init = json::array();
  for (auto& p : params) init.push_back(encode(p));
  Adam adam(params, 0.0, {0.9, 0.98}, 1e-6, 0.01);
  json grads = json::array(), lrs = json::array();
  std::vector<std::vector<torch::Tensor>> after;
  for (int step = 0; step < 5; ++step) {
    json g = json::array();
    for (auto& p : params) {
      p.mutable_grad() = torch::randn(p.sizes()) * (step + 1);
      g.push_back(encode(p.grad()));
    }
    const double lr = 1e-3 * (step + 1);
    adam.set_lr(lr);
    adam.step();
    grads.push_back(g);
    lrs.push_back(lr);
    after.push_back({params[0].detach().clone(), params[1].detach().clone()});
  }
  const json ref = run_oracle("train_adam.py", {{"params", init}, {"grads", grads}, {"lrs", lrs},
                                                {"betas", {0.9, 0.98}}, {"eps", 1e-6}, {"weight_decay", 0.01}});
  for (size_t s = 0; s < after.size(); ++s)
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_LT(max_rel_error(after[s][i], decode(ref["params"][s][i])), 1e-6) << s << " " << i;
  EXPECT_EQ(adam.state()[0].step, 5);
}

// A parameter without a gradient in a step (a layer LayerDrop skipped, a frozen module) is left
// alone, weights, moments and step count, after zero_grad as on a fresh start: against
// torch.optim.AdamW itself, whose update is fairseq's Adam's with eps 0.
TEST(Adam, ParameterWithoutAGradientInAStepIsUntouched) {
  torch::manual_seed(4);
  std::vector<torch::Tensor> params{torch::randn({3, 4}).requires_grad_(), torch::randn({5}).requires_grad_()};
  json init = json::array();
  for (auto& p : params) init.push_back(encode(p));
  Adam adam(params, 0.0, {0.9, 0.98}, 0.0, 0.01);
  // Which parameter has a gradient in each step: both, the first, both, the second, none.
  const std::vector<std::vector<bool>> has{{true, true}, {true, false}, {true, true}, {false, true}, {false, false}};
  json grads = json::array(), lrs = json::array();
  std::vector<std::vector<torch::Tensor>> after;
  std::vector<std::vector<Adam::State>> states;
  for (size_t step = 0; step < has.size(); ++step) {
    adam.zero_grad();
    json g = json::array();
    for (size_t i = 0; i < params.size(); ++i) {
      ASSERT_FALSE(params[i].grad().defined()) << step << " " << i;  // not a zero gradient
      if (has[step][i]) params[i].mutable_grad() = torch::randn(params[i].sizes());
      g.push_back(has[step][i] ? encode(params[i].grad()) : json());
    }
    auto copy = [&] {
      std::vector<Adam::State> s;
      for (const auto& x : adam.state())
        s.push_back({x.step, x.exp_avg.defined() ? x.exp_avg.clone() : x.exp_avg,
                     x.exp_avg_sq.defined() ? x.exp_avg_sq.clone() : x.exp_avg_sq});
      return s;
    };
    const std::vector<Adam::State> before = copy();
    const std::vector<torch::Tensor> weights{params[0].detach().clone(), params[1].detach().clone()};
    const double lr = 1e-3 * (step + 1);
    adam.set_lr(lr);
    adam.step();
    for (size_t i = 0; i < params.size(); ++i) {
      if (has[step][i]) continue;
      EXPECT_TRUE(torch::equal(params[i].detach(), weights[i])) << step << " " << i;
      const Adam::State& s = adam.state()[i];
      EXPECT_EQ(s.step, before[i].step) << step << " " << i;
      ASSERT_EQ(s.exp_avg.defined(), before[i].exp_avg.defined()) << step << " " << i;
      if (s.exp_avg.defined())
        EXPECT_TRUE(torch::equal(s.exp_avg, before[i].exp_avg) && torch::equal(s.exp_avg_sq, before[i].exp_avg_sq))
            << step << " " << i;
    }
    grads.push_back(g);
    lrs.push_back(lr);
    after.push_back({params[0].detach().clone(), params[1].detach().clone()});
    states.push_back(copy());
  }
  EXPECT_EQ(adam.state()[0].step, 3);
  EXPECT_EQ(adam.state()[1].step, 3);
  const json ref = run_oracle("train_adamw_torch.py", {{"params", init}, {"grads", grads}, {"lrs", lrs},
                                                       {"betas", {0.9, 0.98}}, {"weight_decay", 0.01}});
  ASSERT_EQ(ref["steps"].size(), has.size());
  for (size_t s = 0; s < has.size(); ++s)
    for (size_t i = 0; i < params.size(); ++i) {
      const json& r = ref["steps"][s];
      EXPECT_LT(max_rel_error(after[s][i], decode(r["params"][i])), 1e-6) << s << " " << i;
      ASSERT_EQ(r["state"][i].is_null(), !states[s][i].exp_avg.defined()) << s << " " << i;
      if (r["state"][i].is_null()) continue;
      EXPECT_EQ(states[s][i].step, r["state"][i]["step"].get<int64_t>()) << s << " " << i;
      EXPECT_LT(max_rel_error(states[s][i].exp_avg, decode(r["state"][i]["exp_avg"])), 1e-6) << s << " " << i;
      EXPECT_LT(max_rel_error(states[s][i].exp_avg_sq, decode(r["state"][i]["exp_avg_sq"])), 1e-6) << s << " " << i;
    }
}

TEST(LrScheduler, PolynomialDecayPhaseEdges) {
  // Spec 7.2: peak * n / W up to W, linear to 0 at N.
  PolynomialDecaySchedule s(5e-4, 32000, 0.0, 1.0, 400000);
  EXPECT_DOUBLE_EQ(s.initial(), 5e-4 / 32000);
  EXPECT_DOUBLE_EQ(s.lr(16000), 2.5e-4);
  EXPECT_DOUBLE_EQ(s.lr(32000), 5e-4);
  EXPECT_NEAR(s.lr(32000 + 184000), 2.5e-4, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(400000), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(500000), 0.0);
}

TEST(LrScheduler, TriStageFromBase100hConfig) {
  auto cfg = w2v::config::Config::load(std::string(W2V_SOURCE_DIR) + "/configs/finetuning/base_100h.yaml");
  auto s = make_lr_scheduler(cfg);
  const double peak = 3e-5;
  // N = 80 000 -> 8 000 / 32 000 / 40 000.
  EXPECT_DOUBLE_EQ(s->initial(), 0.01 * peak);
  EXPECT_DOUBLE_EQ(s->lr(0), 0.01 * peak);
  EXPECT_NEAR(s->lr(4000), (0.01 + 0.99 * 0.5) * peak, 1e-18);
  EXPECT_DOUBLE_EQ(s->lr(8000), peak);
  EXPECT_DOUBLE_EQ(s->lr(39999), peak);
  EXPECT_DOUBLE_EQ(s->lr(40000), peak);
  EXPECT_NEAR(s->lr(60000), peak * std::sqrt(0.05), 1e-15);
  EXPECT_NEAR(s->lr(80000), 0.05 * peak, 1e-15);
  EXPECT_DOUBLE_EQ(s->lr(80001), 0.05 * peak);
  auto bad = w2v::config::Config::load(std::string(W2V_SOURCE_DIR) + "/configs/finetuning/base_100h.yaml",
                                       {"lr_scheduler.phase_ratio=[0.1,0.4,0.4]"});
  EXPECT_THROW(make_lr_scheduler(bad), w2v::Error);
}

}  // namespace w2v::train
