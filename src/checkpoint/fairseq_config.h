// Model hyper-parameters <-> fairseq's config trees, both directions. fairseq stores them as a
// hydra `cfg` dict (cfg.model with `_name`, cfg.task) or, in 2020 checkpoints, as an argparse
// `args` Namespace with the same field names; fine-tuned models embed the pre-training config
// as w2v_args (spec 9.1, 9.7). Both read through Value's dict-like lookup.
#pragma once

#include <string>

#include "checkpoint/value.h"
#include "model/config.h"
#include "model/ctc.h"

namespace w2v::ckpt {

// Reads every Wav2Vec2Config field present in `section` (a cfg.model dict or an args
// Namespace), keeping the defaults for absent ones. Fields that would change the network in
// ways the model does not implement (layer_type conformer, target_glu, quantize_input,
// pos_conv_depth > 1, ...) are w2v::Error naming the key path; `where` is the section's own
// path ("cfg.model", "args"), the caller adds the file name.
model::Wav2Vec2Config read_wav2vec2_config(const Value& section, const std::string& where);

// cfg.model for a pre-training model: {"_name": "wav2vec2", every Wav2Vec2Config field}.
Value wav2vec2_config_to_dict(const model::Wav2Vec2Config& cfg);

// A fine-tuned model's configuration: the encoder config from w2v_args with fairseq's
// fine-tuning overrides applied (dropouts, mask knobs, layerdrop -> encoder_layerdrop,
// feature_grad_mult), plus the Wav2Vec2AsrConfig-only knobs.
struct CtcConfig {
  model::Wav2Vec2Config encoder;
  model::Wav2Vec2AsrOptions asr;
};

// From a wav2vec_ctc cfg.model dict or args Namespace (which holds w2v_args).
CtcConfig read_ctc_config(const Value& section, const std::string& where);
// The same from the pre-trained model's config itself (fine-tuning starts from w2v_path): the
// section's fine-tuning overrides and asr knobs applied to `pretrained`; w2v_args is not read.
CtcConfig finetuning_config(model::Wav2Vec2Config pretrained, const Value& section, const std::string& where);

// cfg.model for a fine-tuned model: {"_name": "wav2vec_ctc", overrides, asr knobs,
// "w2v_args": {"model": <wav2vec2 dict>, "task": {"_name": "audio_pretraining", "normalize"}}}.
Value ctc_config_to_dict(const CtcConfig& cfg);

}  // namespace w2v::ckpt
