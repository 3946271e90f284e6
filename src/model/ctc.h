// The CTC fine-tuning model (fairseq Wav2VecCtc, spec 6): w2v_encoder = {w2v_model (a
// Wav2Vec2Model without pre-training heads), proj = Linear(D, vocab)}; parameter names are
// w2v_encoder.w2v_model.* and w2v_encoder.proj.*. Output logits are time-major [T, B, V] with
// padded frames forced to [0, -inf, ...] (all mass on blank, index 0).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "model/wav2vec2.h"

namespace w2v::model {

// Fine-tuning knobs of fairseq's Wav2Vec2AsrConfig that are not part of the encoder config
// (dropouts, layerdrop, mask_* and feature_grad_mult are set in the Wav2Vec2Config itself).
struct Wav2Vec2AsrOptions {
  double final_dropout = 0.0;
  bool apply_mask = false;               // use the caller's masks in training
  int64_t freeze_finetune_updates = 0;   // w2v_model runs without grad before this many updates
  // fairseq's Wav2VecCtc.get_logits: the blank's logit (index 0) is raised by (blank_mode
  // "add") or set to ("set") blank_weight, in training and inference alike; 0 = unchanged.
  double blank_weight = 0.0;
  std::string blank_mode = "add";
};

struct CtcOutput {
  torch::Tensor logits;        // [T, B, V]
  torch::Tensor padding_mask;  // [B, T] bool (true = padded frame) or undefined
};

class Wav2VecEncoderImpl : public torch::nn::Module {
 public:
  Wav2VecEncoderImpl(const Wav2Vec2Config& cfg, int64_t vocab, const Wav2Vec2AsrOptions& opts);
  // Masks are applied only when training and opts.apply_mask (see Wav2Vec2Model).
  CtcOutput forward(const torch::Tensor& source, const torch::Tensor& padding_mask,
                    const torch::Tensor& mask_indices, const torch::Tensor& mask_channel_indices);
  // The CTC head on context-network output [..., D]: final_dropout, proj, then the blank
  // weight; no padding (forward fills padded frames).
  torch::Tensor head(const torch::Tensor& x);
  void set_num_updates(int64_t num_updates) { num_updates_ = num_updates; }

  Wav2Vec2Model w2v_model{nullptr};
  torch::nn::Linear proj{nullptr};

 private:
  Wav2Vec2AsrOptions opts_;
  int64_t num_updates_ = 0;
  torch::nn::Dropout final_dropout_{nullptr};
};
TORCH_MODULE(Wav2VecEncoder);

class Wav2VecCtcImpl : public torch::nn::Module {
 public:
  Wav2VecCtcImpl(const Wav2Vec2Config& cfg, int64_t vocab, const Wav2Vec2AsrOptions& opts = {});
  // source [B, L], padding_mask [B, L] bool or undefined; optional time/channel masks as in
  // Wav2Vec2Model::extract_features (used only when training with apply_mask).
  CtcOutput forward(const torch::Tensor& source, const torch::Tensor& padding_mask = {},
                    const torch::Tensor& mask_indices = {}, const torch::Tensor& mask_channel_indices = {});
  void set_num_updates(int64_t num_updates) { w2v_encoder->set_num_updates(num_updates); }
  int64_t vocab_size() const { return w2v_encoder->proj->options.out_features(); }
  // Inference weights at precision p (Wav2Vec2Model::prepare); the CTC head stays fp32.
  void prepare(Precision p) { w2v_encoder->w2v_model->prepare(p); }

  Wav2VecEncoder w2v_encoder{nullptr};
};
TORCH_MODULE(Wav2VecCtc);

}  // namespace w2v::model
