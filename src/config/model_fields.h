// The model's hyper-parameters, one row each: the single table from which model::Wav2Vec2Config's
// members (model/config.h), the config schema's model.* keys (config/schema.cpp), the fairseq
// checkpoint reader and writer (checkpoint/fairseq_config.cpp) and the HuggingFace config.json
// reader and writer (checkpoint/hf_config.cpp, huggingface.cpp) are built. tests/config checks
// every configs/*.yaml against it.
// Each table is an X-macro: pass a macro taking the row's columns.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace w2v {
// Gumbel temperature (max, min, decay per update).
using LatentTemp = std::array<double, 3>;
}  // namespace w2v

// X(type, name, default, hf_name, hf_default): one per Wav2Vec2Config member (model.wav2vec2).
//   name        the member, fairseq's Wav2Vec2Config field and the config key model.<name>
//   default     fairseq's default
//   hf_name     the key with the same meaning in transformers' config.json, and hf_default its
//   hf_default  default there; "" and {} when there is none (extractor_mode and
//               conv_feature_layers are converted by the reader, the rest keep fairseq's default)
#define W2V_WAV2VEC2_FIELDS(X)                                                                         \
  /* Feature encoder: extractor_mode "default" = GroupNorm in block 0, "layer_norm" in every block; */ \
  /* feature_grad_mult 0 = frozen (no autograd), else the backward pass is scaled by it. */            \
  X(std::string, extractor_mode, "default", "", {})                                                    \
  X(std::string, conv_feature_layers, "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]", \
    "", {})                                                                                            \
  X(bool, conv_bias, false, "conv_bias", false)                                                        \
  X(double, feature_grad_mult, 1.0, "", {})                                                            \
  /* Transformer: activation_fn only "gelu" (exact erf); layer_norm_first = pre-LN (LARGE-LV). */      \
  X(int64_t, encoder_layers, 12, "num_hidden_layers", 12)                                              \
  X(int64_t, encoder_embed_dim, 768, "hidden_size", 768)                                               \
  X(int64_t, encoder_ffn_embed_dim, 3072, "intermediate_size", 3072)                                   \
  X(int64_t, encoder_attention_heads, 12, "num_attention_heads", 12)                                   \
  X(std::string, activation_fn, "gelu", "", {})                                                        \
  X(bool, layer_norm_first, false, "do_stable_layer_norm", false)                                      \
  X(int64_t, conv_pos, 128, "num_conv_pos_embeddings", 128)                                            \
  X(int64_t, conv_pos_groups, 16, "num_conv_pos_embedding_groups", 16)                                 \
  /* Dropouts. */                                                                                      \
  X(double, dropout, 0.1, "hidden_dropout", 0.1)                                                       \
  X(double, attention_dropout, 0.1, "attention_dropout", 0.1)                                          \
  X(double, activation_dropout, 0.0, "activation_dropout", 0.1)                                        \
  X(double, encoder_layerdrop, 0.0, "layerdrop", 0.1)                                                  \
  X(double, dropout_input, 0.0, "feat_proj_dropout", 0.0)                                              \
  X(double, dropout_features, 0.0, "feat_quantizer_dropout", 0.0)                                      \
  /* Pre-training heads: quantizer, final_proj, project_q, contrastive logits. final_dim 0 = */        \
  /* encoder_embed_dim, latent_dim 0 = final_dim. */                                                   \
  X(int64_t, final_dim, 0, "proj_codevector_dim", 256)                                                 \
  X(bool, quantize_targets, false, "", {})                                                             \
  X(int64_t, latent_vars, 320, "num_codevectors_per_group", 320)                                       \
  X(int64_t, latent_groups, 2, "num_codevector_groups", 2)                                             \
  X(int64_t, latent_dim, 0, "codevector_dim", 256)                                                     \
  X(LatentTemp, latent_temp, (LatentTemp{2.0, 0.5, 0.999995}), "", {})                                 \
  X(double, logit_temp, 0.1, "contrastive_logits_temperature", 0.1)                                    \
  X(int64_t, num_negatives, 100, "num_negatives", 100)                                                 \
  X(int64_t, cross_sample_negatives, 0, "", {})                                                        \
  /* Masking (time spans replaced by mask_emb; channel spans zeroed). The masks are drawn by the */    \
  /* caller (train/masking.h); the model applies them. */                                              \
  X(double, mask_prob, 0.65, "mask_time_prob", 0.05)                                                   \
  X(int64_t, mask_length, 10, "mask_time_length", 10)                                                  \
  X(std::string, mask_selection, "static", "", {})                                                     \
  X(double, mask_other, 0.0, "", {})                                                                   \
  X(bool, no_mask_overlap, false, "", {})                                                              \
  X(int64_t, mask_min_space, 1, "", {})                                                                \
  X(bool, require_same_masks, true, "", {})                                                            \
  X(double, mask_dropout, 0.0, "", {})                                                                 \
  X(double, mask_channel_prob, 0.0, "mask_feature_prob", 0.0)                                          \
  X(int64_t, mask_channel_length, 10, "mask_feature_length", 10)                                       \
  X(std::string, mask_channel_selection, "static", "", {})                                             \
  X(double, mask_channel_other, 0.0, "", {})                                                           \
  X(bool, no_mask_channel_overlap, false, "", {})                                                      \
  X(int64_t, mask_channel_min_space, 1, "", {})                                                        \
  X(bool, mask_channel_before, false, "", {})                                                          \
  /* Frames past the last whole multiple of crop_seq_to_multiple are dropped after layer_norm. */      \
  X(int64_t, crop_seq_to_multiple, 1, "", {})

// X(type, name, value): fairseq Wav2Vec2Config fields without a member here, which change the
// network unless they keep the value of the plain wav2vec 2.0 architecture; the readers reject
// any other value (a config or a checkpoint), naming the key.
#define W2V_WAV2VEC2_FIXED_FIELDS(X)             \
  X(std::string, layer_type, "transformer")      \
  X(int64_t, pos_conv_depth, 1)                  \
  X(bool, target_glu, false)                     \
  X(bool, quantize_input, false)                 \
  X(bool, same_quantizer, false)                 \
  X(int64_t, quantizer_depth, 1)

// The warning of a fairseq key that has no effect on wav2vec 2.0 here.
#define W2V_NOT_USED "not used by wav2vec 2.0 in w2v"

// X(type, name, default_yaml, ignored_because): fairseq Wav2Vec2Config fields accepted in a
// config and not read by the model (the pre-training task checks the negatives' knobs itself);
// a non-empty ignored_because is printed as a warning when a config sets the key.
#define W2V_WAV2VEC2_UNUSED_FIELDS(X)                                                                 \
  X(int64_t, quantizer_factor, "3", "fairseq uses it only with quantizer_depth > 1, which w2v does not implement") \
  X(bool, negatives_from_everywhere, "false", "")                                                     \
  X(int64_t, codebook_negatives, "0", "")                                                             \
  X(int64_t, max_positions, "100000", "fairseq's wav2vec2 reads it only for conformer layers")        \
  X(bool, checkpoint_activations, "false", W2V_NOT_USED)                                              \
  X(int64_t, required_seq_len_multiple, "2",                                                          \
    "fairseq pads the frames to a multiple and masks the padding: the outputs are the same")

// X(name, default, member): the fine-tuning keys (model.wav2vec_ctc, fairseq's Wav2Vec2AsrConfig)
// that fairseq's Wav2VecEncoder copies into the pre-trained model's config, with the fine-tuning
// defaults; `member` is the Wav2Vec2Config member they set (of its type).
#define W2V_FINETUNING_OVERRIDES(X)                          \
  X(dropout, 0.0, dropout)                                   \
  X(activation_dropout, 0.0, activation_dropout)             \
  X(dropout_input, 0.0, dropout_input)                       \
  X(attention_dropout, 0.0, attention_dropout)               \
  X(mask_length, 10, mask_length)                            \
  X(mask_prob, 0.5, mask_prob)                               \
  X(require_same_masks, true, require_same_masks)            \
  X(mask_dropout, 0.0, mask_dropout)                         \
  X(mask_selection, "static", mask_selection)                \
  X(mask_other, 0.0, mask_other)                             \
  X(no_mask_overlap, false, no_mask_overlap)                 \
  X(mask_channel_length, 10, mask_channel_length)            \
  X(mask_channel_prob, 0.0, mask_channel_prob)               \
  X(mask_channel_before, false, mask_channel_before)         \
  X(mask_channel_selection, "static", mask_channel_selection) \
  X(mask_channel_other, 0.0, mask_channel_other)             \
  X(no_mask_channel_overlap, false, no_mask_channel_overlap) \
  X(layerdrop, 0.0, encoder_layerdrop)                       \
  X(feature_grad_mult, 0.0, feature_grad_mult)

// X(type, name, default_yaml, ignored_because): the other model.wav2vec_ctc keys. The fine-tuning
// knobs (final_dropout, apply_mask, freeze_finetune_updates, blank_*) are read by
// checkpoint/fairseq_config.cpp (model::Wav2Vec2AsrOptions) and the CTC task; normalize is the encoder's
// (task.normalize); the min_space knobs are accepted as fairseq accepts them, which does not
// copy them into the encoder either.
#define W2V_FINETUNING_OWN_FIELDS(X)                                                      \
  X(std::string, w2v_path, "???", "")                                                     \
  X(bool, no_pretrained_weights, "false", "")                                             \
  X(double, final_dropout, "0.0", "")                                                     \
  X(bool, apply_mask, "false", "")                                                        \
  X(int64_t, mask_min_space, "1", "fairseq does not pass it to the encoder")              \
  X(int64_t, mask_channel_min_space, "1", "fairseq does not pass it to the encoder")      \
  X(int64_t, freeze_finetune_updates, "0", "")                                            \
  X(bool, normalize, "${task.normalize}", "")                                             \
  X(std::string, data, "${task.data}", "")                                                \
  X(std::string, w2v_args, "null", W2V_NOT_USED)                                          \
  X(bool, checkpoint_activations, "false", W2V_NOT_USED)                                  \
  X(std::string, ddp_backend, "${distributed_training.ddp_backend}", W2V_NOT_USED)        \
  X(double, blank_weight, "0", "")                                                        \
  X(std::string, blank_mode, "add", "")
