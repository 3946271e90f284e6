// CTC fine-tuning: fairseq's `wav2vec_ctc` model (a pre-trained wav2vec2 from model.w2v_path
// plus a letter head) with the `ctc` criterion; validation adds UER/WER (spec 6.3).
#include "checkpoint/fairseq_config.h"
#include "train/checkpointing.h"
#include "train/config_value.h"
#include "train/ctc_criterion.h"
#include "train/task.h"
#include "util/error.h"

namespace w2v::train {
namespace {

eval::PostProcess post_process(const config::Config& cfg) {
  const std::string name = cfg.text("criterion.post_process");
  try {
    return eval::parse_post_process(name);
  } catch (const Error&) {
    throw key_error("criterion.post_process", "'" + name + "' is not one of letter, wordpiece, sentencepiece, none");
  }
}

class CtcTask : public Task {
 public:
  CtcTask(const config::Config& cfg, const TrainSettings& settings, const WordDecoderFactory& make_lm_decoder) {
    masks_ = read_masks(cfg);
    build_model(cfg, settings);
    criterion_ = std::make_unique<CtcCriterion>(cfg.flag("criterion.zero_infinity"), cfg.flag("criterion.sentence_avg"),
                                                post_process(cfg));
    LmDecoderSpec spec = read_lm_decoder_spec(cfg);
    if (spec.kenlm_model.empty()) return;  // fairseq: no LM, wer = raw_wer
    if (!make_lm_decoder)
      throw key_error("criterion.wer_kenlm_model", "needs an LM decoder, which this Trainer was not given (w2v train gives one)");
    spec.symbols = dictionary_.symbols();
    lm_decoder_ = make_lm_decoder(spec);
  }

  const char* criterion_name() const override { return "CtcCriterion"; }
  void set_num_updates(int64_t n) override { model_.ctc->set_num_updates(n); }

  CriterionResult loss(const data::Batch& batch, Rng& rng, bool training) override {
    return forward(batch, rng, training).first;
  }

  LoggingOutput valid_step(const data::Batch& batch, Rng& rng) override {
    auto [result, o] = forward(batch, rng, false);
    LoggingOutput logs = result.logging;
    accumulate(logs, criterion_->validation_errors(o.logits, o.padding_mask, batch.target, dictionary_, lm_decoder_));
    return logs;
  }

  Stats train_stats(LoggingOutput sums) const override {
    Stats s;
    s["ntokens"] = sums["ntokens"];
    s["nsentences"] = sums["nsentences"];
    if (sums["ntokens"] != sums["sample_size_total"]) s["nll_loss"] = log2_scale(sums["loss"], sums["ntokens"]);
    s["impossible"] = sums["impossible"];
    return s;
  }

  Stats valid_stats(LoggingOutput sums) const override {
    Stats s;
    s["uer"] = sums["c_total"] > 0 ? 100.0 * sums["c_errors"] / sums["c_total"] : 0.0;
    s["wer"] = sums["w_total"] > 0 ? 100.0 * sums["w_errors"] / sums["w_total"] : 0.0;
    s["raw_wer"] = sums["w_total"] > 0 ? 100.0 * sums["wv_errors"] / sums["w_total"] : 0.0;
    s["impossible"] = sums["impossible"];
    return s;
  }

 private:
  // The encoder's configuration is the pre-trained model's with the fine-tuning overrides of
  // the config's model section; its weights are copied unless model.no_pretrained_weights.
  void build_model(const config::Config& cfg, const TrainSettings& settings) {
    const DataSettings& data = settings.data;
    dictionary_ = data::Dictionary::load(data.dir + "/dict." + data.labels + ".txt");
    const std::string w2v_path = cfg.text("model.w2v_path");
    ckpt::LoadedModel pre = ckpt::load_model(w2v_path);
    if (pre.kind != ckpt::ModelKind::kPretraining)
      throw key_error("model.w2v_path", w2v_path + " is a fine-tuned model; expected a pre-trained wav2vec2 checkpoint");
    const bool normalize = data.dataset.normalize;
    if (pre.config.normalize != normalize)
      throw key_error("task.normalize", std::string(normalize ? "true" : "false") +
                                            " does not match the pre-trained model's normalize=" +
                                            (pre.config.normalize ? "true" : "false") + " (" + w2v_path + ")");
    ckpt::CtcConfig cc = ckpt::finetuning_config(pre.config, config_section(cfg, "model"), "config model");
    model_.kind = ckpt::ModelKind::kCtc;
    model_.config = cc.encoder;
    model_.asr = cc.asr;
    model_.ctc = model::Wav2VecCtc(cc.encoder, dictionary_.size(), cc.asr);
    model_.dictionary = dictionary_;
    if (!cfg.flag("model.no_pretrained_weights"))
      copy_state(*pre.encoder(), *model_.ctc->w2v_encoder->w2v_model, w2v_path, /*allow_missing=*/false);
  }

  // The CTC loss of one batch and the model output it came from (validation scores its logits).
  std::pair<CriterionResult, model::CtcOutput> forward(const data::Batch& batch, Rng& rng, bool training) {
    torch::Tensor mask, channels;
    if (training && model_.asr.apply_mask) masks_.draw(model_, batch, rng, mask, channels);
    // The logits carry model.blank_weight already (Wav2VecCtc, as fairseq's get_logits).
    auto o = model_.ctc->forward(batch.source, batch.padding_mask, mask, channels);
    CriterionResult r = (*criterion_)(o.logits, o.padding_mask, batch.target);
    return {std::move(r), std::move(o)};
  }

  data::Dictionary dictionary_;
  std::unique_ptr<CtcCriterion> criterion_;
  WordDecoder lm_decoder_;  // empty: wer is the greedy WER
};

}  // namespace

std::unique_ptr<Task> make_ctc_task(const config::Config& cfg, const TrainSettings& settings,
                                    const WordDecoderFactory& make_lm_decoder) {
  return std::make_unique<CtcTask>(cfg, settings, make_lm_decoder);
}

}  // namespace w2v::train
