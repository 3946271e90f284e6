// wav2vec 2.0 pre-training: fairseq's `wav2vec2` model with the `wav2vec` criterion (InfoNCE).
#include "checkpoint/fairseq_config.h"
#include "train/config_value.h"
#include "train/negatives.h"
#include "train/task.h"
#include "util/error.h"

namespace w2v::train {
namespace {

class PretrainingTask : public Task {
 public:
  explicit PretrainingTask(const config::Config& cfg) {
    masks_ = read_masks(cfg);
    model::Wav2Vec2Config mc = ckpt::read_wav2vec2_config(config_section(cfg, "model"), "config model");
    mc.normalize = cfg.flag("task.normalize");
    if (!mc.quantize_targets) throw key_error("model.quantize_targets", "pre-training needs quantized targets (true)");
    if (masks_.time.prob <= 0) throw key_error("model.mask_prob", "pre-training needs masked frames (> 0)");
    if (cfg.integer("model.cross_sample_negatives") != 0 || cfg.integer("model.codebook_negatives") != 0 ||
        cfg.flag("model.negatives_from_everywhere"))
      throw key_error("model.cross_sample_negatives", "only in-utterance negatives are implemented");
    num_negatives_ = mc.num_negatives;
    model_.kind = ckpt::ModelKind::kPretraining;
    model_.config = mc;
    model_.pretraining = model::Wav2Vec2Model(mc, true);
    const auto weights = cfg.is_set("criterion.loss_weights") ? cfg.reals("criterion.loss_weights") : std::vector<double>{};
    if (weights.size() > 2)
      throw key_error("criterion.loss_weights", "has " + std::to_string(weights.size()) +
                                                    " entries; expected at most 2 (diversity, features_pen)");
    criterion_ = std::make_unique<ContrastiveCriterion>(weights);
    if (!cfg.flag("criterion.infonce"))
      throw key_error("criterion.infonce", "only the InfoNCE loss (true) is implemented");
  }

  const char* criterion_name() const override { return "Wav2vecCriterion"; }
  void set_num_updates(int64_t n) override { model_.pretraining->set_num_updates(n); }

  CriterionResult loss(const data::Batch& batch, Rng& rng, bool) override {
    torch::Tensor mask, channels;
    masks_.draw(model_, batch, rng, mask, channels);
    const int64_t B = batch.size();
    const int64_t M = mask.sum().item<int64_t>() / B;
    auto negatives = sample_negatives(B, M, num_negatives_, rng);
    auto o = model_.pretraining->forward(batch.source, batch.padding_mask, mask, negatives, channels);
    CriterionResult r = (*criterion_)(o.logits, o.quantized.prob_perplexity, o.quantized.num_vars, o.features_pen);
    r.logging["code_perplexity"] = o.quantized.code_perplexity.item<double>();
    r.logging["temp"] = o.quantized.temp;
    return r;
  }

  LoggingOutput valid_step(const data::Batch& batch, Rng& rng) override { return loss(batch, rng, false).logging; }

  Stats train_stats(LoggingOutput sums) const override {
    const double ss = sums["sample_size_total"];
    Stats s;
    for (const char* k : {"loss_0", "loss_1", "loss_2"})
      if (sums.count(k)) s[k] = log2_scale(sums[k], ss);
    s["accuracy"] = accuracy(sums);
    const double n = sums["batches"];
    s["prob_perplexity"] = sums["prob_perplexity"] / n;
    s["code_perplexity"] = sums["code_perplexity"] / n;
    s["temp"] = sums["temp"] / n;
    return s;
  }

  Stats valid_stats(LoggingOutput sums) const override { return {{"accuracy", accuracy(sums)}}; }

  void add_progress(const LoggingOutput& logs, ProgressStats& stats) const override {
    stats.emplace_back("acc", accuracy(logs));
  }

  // A collapsed codebook makes the contrastive task trivial (the negatives equal the positive)
  // and the representations useless: say so while it happens.
  std::string check(const Stats& stats) const override {
    const auto& mc = model_.pretraining->config();
    const double codes = static_cast<double>(mc.latent_vars * mc.latent_groups);
    const double pp = stats.at("prob_perplexity");
    if (pp >= 0.05 * codes) return "";
    return "prob_perplexity " + std::to_string(pp) + " is below 5% of the " +
           std::to_string(static_cast<int64_t>(codes)) +
           " codebook entries: the quantizer is collapsing (raise criterion.loss_weights[0] or lower the learning rate)";
  }

 private:
  static double accuracy(const LoggingOutput& sums) {
    const auto count = sums.find("count"), correct = sums.find("correct");
    return count != sums.end() && count->second > 0 ? correct->second / count->second : 0.0;
  }

  int64_t num_negatives_ = 100;
  std::unique_ptr<ContrastiveCriterion> criterion_;
};

}  // namespace

std::unique_ptr<Task> make_pretraining_task(const config::Config& cfg) {
  return std::make_unique<PretrainingTask>(cfg);
}

}  // namespace w2v::train
