#include "model/wav2vec2.h"

#include <limits>

#include "model/cpu_runtime.h"
#include "model/grad_multiply.h"
#include "util/error.h"

namespace w2v::model {

Wav2Vec2ModelImpl::Wav2Vec2ModelImpl(const Wav2Vec2Config& cfg, bool with_pretraining_heads) : cfg_(cfg) {
  cfg_.validate();
  const int64_t D = cfg_.encoder_embed_dim;
  const int64_t C = cfg_.conv_dim();
  const int64_t F = cfg_.effective_final_dim();

  mask_emb = register_parameter("mask_emb", torch::rand({D}));
  feature_extractor = register_module("feature_extractor", ConvFeatureExtractionModel(cfg_));
  // fairseq has no projection when the conv width already equals the encoder width.
  if (C != D) post_extract_proj = register_module("post_extract_proj", torch::nn::Linear(C, D));
  layer_norm = register_module("layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})));
  encoder = register_module("encoder", TransformerEncoder(cfg_));
  dropout_input_ = register_module("dropout_input", torch::nn::Dropout(cfg_.dropout_input));
  dropout_features_ = register_module("dropout_features", torch::nn::Dropout(cfg_.dropout_features));

  if (with_pretraining_heads) {
    if (cfg_.quantize_targets) {
      quantizer = register_module("quantizer", GumbelVectorQuantizer(C, cfg_.latent_vars, cfg_.latent_temp,
                                                                     cfg_.latent_groups, cfg_.vq_dim()));
      project_q = register_module("project_q", torch::nn::Linear(cfg_.vq_dim(), F));
    } else {
      project_q = register_module("project_q", torch::nn::Linear(C, F));
    }
    final_proj = register_module("final_proj", torch::nn::Linear(D, F));
  }
}

torch::Tensor Wav2Vec2ModelImpl::frame_padding_mask(const torch::Tensor& padding_mask, int64_t frames) const {
  if (!padding_mask.defined() || !padding_mask.any().item<bool>()) return {};
  auto samples = (~padding_mask).sum(-1).to(torch::kCPU);
  auto lengths = torch::empty({padding_mask.size(0)}, torch::kLong);
  for (int64_t b = 0; b < lengths.size(0); ++b)
    lengths[b] = output_length(samples[b].item<int64_t>());
  auto idx = torch::arange(frames, torch::kLong).unsqueeze(0);
  return (idx >= lengths.unsqueeze(1)).to(padding_mask.device());
}

Wav2Vec2Features Wav2Vec2ModelImpl::extract_features(const torch::Tensor& source, const torch::Tensor& padding_mask,
                                                     const torch::Tensor& mask_indices,
                                                     const torch::Tensor& mask_channel_indices, int64_t layer) {
  torch::Tensor features;
  if (cfg_.feature_grad_mult > 0) {
    features = feature_extractor->forward(source);
    if (cfg_.feature_grad_mult != 1.0) features = grad_multiply(features, cfg_.feature_grad_mult);
  } else {
    torch::NoGradGuard no_grad;
    features = feature_extractor->forward(source);
  }
  Wav2Vec2Features out;
  out.features_pen = features.to(torch::kFloat).pow(2).mean();
  // A prepared (bf16) extractor hands back its compute dtype; the rest runs in the model's.
  features = layer_norm->forward(features.transpose(1, 2).to(layer_norm->weight.scalar_type()));
  auto unmasked = features.clone();
  out.padding_mask = frame_padding_mask(padding_mask, features.size(1));
  // fairseq's crop_seq_to_multiple: the frames past the last whole multiple are dropped, after
  // features_pen (which keeps them) and the padding mask.
  const int64_t frames = cropped_frames(features.size(1));
  if (frames < features.size(1)) {
    features = features.narrow(1, 0, frames);
    unmasked = unmasked.narrow(1, 0, frames);
    if (out.padding_mask.defined()) out.padding_mask = out.padding_mask.narrow(1, 0, frames);
  }

  if (post_extract_proj)
    features = linear(post_extract_proj_fast_, *post_extract_proj, features).to(unmasked.scalar_type());
  features = dropout_input_->forward(features);
  out.unmasked_features = dropout_features_->forward(unmasked);

  const int64_t B = features.size(0), T = features.size(1), D = features.size(2);
  if (mask_indices.defined()) {
    TORCH_CHECK(mask_indices.sizes() == torch::IntArrayRef({B, T}), "mask_indices must be [", B, ", ", T, "], got ",
                mask_indices.sizes());
    features = torch::where(mask_indices.to(torch::kBool).unsqueeze(-1), mask_emb.to(features.scalar_type()), features);
  }
  if (mask_channel_indices.defined()) {
    TORCH_CHECK(mask_channel_indices.sizes() == torch::IntArrayRef({B, D}), "mask_channel_indices must be [", B, ", ",
                D, "], got ", mask_channel_indices.sizes());
    features = features.masked_fill(mask_channel_indices.to(torch::kBool).unsqueeze(1), 0.0);
  }
  auto enc = encoder->forward(features, out.padding_mask, layer);
  out.x = enc.x;
  out.layer_results = std::move(enc.layer_results);
  return out;
}

torch::Tensor Wav2Vec2ModelImpl::compute_preds(const torch::Tensor& x, const torch::Tensor& y,
                                               const torch::Tensor& negatives) const {
  auto neg_is_pos = (y.unsqueeze(0) == negatives).all(-1);  // [K, B, M]
  auto targets = torch::cat({y.unsqueeze(0), negatives}, 0);
  auto logits = torch::cosine_similarity(x.to(torch::kFloat), targets.to(torch::kFloat), -1, 1e-8) / cfg_.logit_temp;
  logits = logits.to(x.scalar_type());
  auto mask = torch::cat({torch::zeros_like(neg_is_pos.narrow(0, 0, 1)), neg_is_pos}, 0);
  return logits.masked_fill(mask, -std::numeric_limits<float>::infinity());
}

Wav2Vec2PretrainOutput Wav2Vec2ModelImpl::forward(const torch::Tensor& source, const torch::Tensor& padding_mask,
                                                  const torch::Tensor& mask_indices,
                                                  const torch::Tensor& negative_indices,
                                                  const torch::Tensor& mask_channel_indices) {
  if (!final_proj) throw Error("Wav2Vec2Model::forward: model was built without pre-training heads");
  TORCH_CHECK(mask_indices.defined(), "pre-training forward needs mask_indices");
  auto f = extract_features(source, padding_mask, mask_indices, mask_channel_indices);
  const int64_t B = f.x.size(0);
  auto mask = mask_indices.to(torch::kBool);
  const int64_t total = mask.sum().item<int64_t>();
  TORCH_CHECK(total % B == 0, "every row of mask_indices must mask the same number of frames");
  const int64_t M = total / B;

  Wav2Vec2PretrainOutput out;
  out.padding_mask = f.padding_mask;
  out.features_pen = f.features_pen;
  auto y = f.unmasked_features.index({mask}).view({B, M, -1});
  if (quantizer) {
    out.quantized = quantizer->forward(y);
    y = out.quantized.x;
  }
  y = project_q->forward(y);
  const int64_t Fd = y.size(-1);
  auto neg_idx = negative_indices.reshape({B, -1});
  TORCH_CHECK(neg_idx.size(1) % M == 0, "negative_indices must hold M * K indices per utterance (M = ", M, ")");
  const int64_t K = neg_idx.size(1) / M;
  auto negs = y.reshape({B * M, Fd}).index_select(0, neg_idx.reshape({-1}).to(torch::kLong));
  negs = negs.view({B, M, K, Fd}).permute({2, 0, 1, 3});

  auto x = final_proj->forward(f.x.index({mask}).view({B, M, -1}));
  out.logits = compute_preds(x, y, negs);
  return out;
}

void Wav2Vec2ModelImpl::prepare(Precision p) {
  feature_extractor->prepare(p);
  if (post_extract_proj) post_extract_proj_fast_ = FastLinear(post_extract_proj->weight, post_extract_proj->bias, p);
  encoder->prepare(p);
  trim_cpu_cache();
}

int64_t Wav2Vec2ModelImpl::prepared_bytes() const {
  return feature_extractor->prepared_bytes() + post_extract_proj_fast_.bytes() + encoder->prepared_bytes();
}

void Wav2Vec2ModelImpl::set_num_updates(int64_t num_updates) {
  if (quantizer) quantizer->set_num_updates(num_updates);
}

}  // namespace w2v::model
