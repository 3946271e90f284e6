#include "model/ctc.h"

#include <limits>

namespace w2v::model {

Wav2VecEncoderImpl::Wav2VecEncoderImpl(const Wav2Vec2Config& cfg, int64_t vocab, const Wav2Vec2AsrOptions& opts)
    : opts_(opts) {
  TORCH_CHECK(vocab > 0, "CTC vocabulary must be non-empty");
  TORCH_CHECK(opts.blank_mode == "add" || opts.blank_mode == "set", "blank_mode must be add or set, got '",
              opts.blank_mode, "'");
  w2v_model = register_module("w2v_model", Wav2Vec2Model(cfg, /*with_pretraining_heads=*/false));
  final_dropout_ = register_module("final_dropout", torch::nn::Dropout(opts.final_dropout));
  proj = register_module("proj", torch::nn::Linear(cfg.encoder_embed_dim, vocab));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(proj->weight);
  proj->bias.zero_();
}

CtcOutput Wav2VecEncoderImpl::forward(const torch::Tensor& source, const torch::Tensor& padding_mask,
                                      const torch::Tensor& mask_indices, const torch::Tensor& mask_channel_indices) {
  const bool use_mask = is_training() && opts_.apply_mask;
  Wav2Vec2Features f;
  {
    // Before freeze_finetune_updates only proj learns.
    c10::optional<torch::NoGradGuard> frozen;
    if (num_updates_ < opts_.freeze_finetune_updates) frozen.emplace();
    f = w2v_model->extract_features(source, padding_mask, use_mask ? mask_indices : torch::Tensor(),
                                    use_mask ? mask_channel_indices : torch::Tensor());
  }
  auto logits = head(f.x.transpose(0, 1));
  if (f.padding_mask.defined()) {
    // Padded frames put all probability on blank (index 0).
    auto row = torch::full({logits.size(-1)}, -std::numeric_limits<float>::infinity(), logits.options());
    row.index_put_({0}, 0.0);
    logits = torch::where(f.padding_mask.transpose(0, 1).unsqueeze(-1), row, logits);
  }
  return {logits, f.padding_mask};
}

torch::Tensor Wav2VecEncoderImpl::head(const torch::Tensor& x) {
  auto logits = proj->forward(final_dropout_->forward(x));
  if (opts_.blank_weight == 0) return logits;
  // A new tensor rather than fairseq's in-place edit: autograd keeps proj's output intact.
  auto blank = logits.narrow(-1, 0, 1);
  blank = opts_.blank_mode == "set" ? torch::full_like(blank, opts_.blank_weight) : blank + opts_.blank_weight;
  return torch::cat({blank, logits.narrow(-1, 1, logits.size(-1) - 1)}, -1);
}

Wav2VecCtcImpl::Wav2VecCtcImpl(const Wav2Vec2Config& cfg, int64_t vocab, const Wav2Vec2AsrOptions& opts) {
  w2v_encoder = register_module("w2v_encoder", Wav2VecEncoder(cfg, vocab, opts));
}

CtcOutput Wav2VecCtcImpl::forward(const torch::Tensor& source, const torch::Tensor& padding_mask,
                                  const torch::Tensor& mask_indices, const torch::Tensor& mask_channel_indices) {
  return w2v_encoder->forward(source, padding_mask, mask_indices, mask_channel_indices);
}

}  // namespace w2v::model
