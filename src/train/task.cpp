#include "train/task.h"

#include "util/error.h"

namespace w2v::train {

Task::Masks Task::read_masks(const config::Config& cfg) {
  Masks m;
  m.time.prob = cfg.real("model.mask_prob");
  m.time.length = cfg.integer("model.mask_length");
  m.time.selection = cfg.text("model.mask_selection");
  m.time.other = cfg.real("model.mask_other");
  m.time.min_masks = 2;  // fairseq's apply_mask
  m.time.require_same_masks = cfg.flag("model.require_same_masks");
  m.time.mask_dropout = cfg.real("model.mask_dropout");
  m.channel.prob = cfg.real("model.mask_channel_prob");
  m.channel.length = cfg.integer("model.mask_channel_length");
  m.channel.selection = cfg.text("model.mask_channel_selection");
  m.channel.other = cfg.real("model.mask_channel_other");
  // fairseq's apply_mask passes require_same_masks and mask_dropout to the time masks only: the
  // channel masks keep compute_mask_indices' defaults (equal counts per row, no dropout).
  m.channel.require_same_masks = true;
  if (cfg.flag("model.no_mask_overlap") || cfg.flag("model.no_mask_channel_overlap"))
    throw key_error("model.no_mask_overlap", "only overlapping spans (false) are implemented");
  if (cfg.flag("model.mask_channel_before"))
    throw key_error("model.mask_channel_before", "only channel masks after time masks (false) are implemented");
  return m;
}

void Task::Masks::draw(const ckpt::LoadedModel& m, const data::Batch& batch, Rng& rng, torch::Tensor& time_mask,
                       torch::Tensor& channel_mask) const {
  const int64_t B = batch.size(), L = batch.source.size(1);
  auto encoder = m.encoder();
  const int64_t T = encoder->cropped_frames(encoder->output_length(L)), D = m.config.encoder_embed_dim;
  auto fpm = encoder->frame_padding_mask(batch.padding_mask, T);
  if (time.prob > 0) time_mask = mask_tensor(compute_mask_indices(valid_lengths(fpm, B, T), time, rng), T);
  if (channel.prob > 0) channel_mask = mask_tensor(compute_mask_indices(std::vector<int64_t>(B, D), channel, rng), D);
}

std::unique_ptr<Task> make_task(const config::Config& cfg, const TrainSettings& settings,
                                const WordDecoderFactory& make_lm_decoder) {
  return settings.pretraining ? make_pretraining_task(cfg) : make_ctc_task(cfg, settings, make_lm_decoder);
}

}  // namespace w2v::train
