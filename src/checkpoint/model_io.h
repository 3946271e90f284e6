// Loading and saving whole models. Our checkpoint format IS fairseq's hydra-era layout
//   {"args": None, "cfg": {"model": {"_name": "wav2vec2"|"wav2vec_ctc", ...}, "task": {...}, ...},
//    "model": {fairseq key: tensor}, "optimizer_history": [...], "extra_state": {...},
//    "dictionary": {"symbols": [...], "count": [...]}   <- w2v's addition, ignored by fairseq}
// so fairseq reads our files and we read fairseq's. load_model also accepts 2020 fairseq
// files (argparse `args`, nested w2v_args), fp16 weights, parametrized weight norm, and
// HuggingFace directories (see huggingface.h).
#pragma once

#include <optional>
#include <string>

#include "checkpoint/fairseq_config.h"
#include "checkpoint/value.h"
#include "data/dictionary.h"
#include "model/ctc.h"
#include "model/wav2vec2.h"

namespace w2v::ckpt {

enum class ModelKind { kPretraining, kCtc };

// A model ready to run or to keep training. Exactly one of `pretraining` / `ctc` is set,
// matching `kind`; `config` is the encoder's configuration (for CTC with fine-tuning overrides
// applied), `asr` the CTC-only knobs. `dictionary` lists the CTC output symbols (row i = symbol
// i, 0 = blank "<s>") when known. `checkpoint` is the rest of the file's tree (cfg,
// optimizer_history, extra_state, last_optimizer_state, ...; "model" removed) for resuming.
struct LoadedModel {
  ModelKind kind = ModelKind::kPretraining;
  model::Wav2Vec2Config config;
  model::Wav2Vec2AsrOptions asr;
  model::Wav2Vec2Model pretraining{nullptr};
  model::Wav2VecCtc ctc{nullptr};
  std::optional<data::Dictionary> dictionary;
  Value checkpoint;
  std::string format;  // where it came from, for `w2v info`: "fairseq (cfg)", "fairseq (args)", "huggingface"

  torch::nn::Module& module() const;
  // The wav2vec 2.0 network itself (for CTC: w2v_encoder.w2v_model).
  model::Wav2Vec2Model encoder() const;
  CtcConfig ctc_config() const { return {config, asr}; }
};

struct LoadOptions {
  // fairseq dict.ltr.txt to use as the output dictionary (overrides one found in the file).
  std::string dict_path;
  // Keep "last_optimizer_state" in LoadedModel::checkpoint (resuming training); otherwise it is
  // dropped at load, as it can be twice the model's size.
  bool keep_optimizer_state = false;
};

// Reads a w2v/fairseq .pt file or a HuggingFace directory. Errors name the file and the key
// (unsupported architecture, missing/extra/mis-shaped tensors with both shapes, dictionary
// size != output rows).
LoadedModel load_model(const std::string& path, const LoadOptions& options = {});

// Builds the checkpoint tree of `m`: cfg.model/cfg.task from the configs, "model" = the state
// dict, "dictionary" when known, empty optimizer_history/extra_state. Entries of `extra` (a
// dict; e.g. optimizer_history, last_optimizer_state, extra_state, or more cfg sections under
// "cfg") are added on top; a "cfg" entry is merged section by section.
Value checkpoint_tree(const LoadedModel& m, const Value& extra = Value());

// Writes checkpoint_tree(m, extra) atomically with save_torch_file.
void save_model(const std::string& path, const LoadedModel& m, const Value& extra = Value());

// Reads `tree` (a loaded fairseq/w2v checkpoint); `where` names it in errors.
LoadedModel model_from_checkpoint(Value tree, const std::string& where, const LoadOptions& options = {});

// w2v::Error unless the tensors of `state_dict` hold at least as many values as a lower bound
// on the size of the network `c` (with `ctc_outputs` > 0: a CTC head; `pretraining`: the
// quantizer), checked before the network is built so that a small file cannot make the loader
// allocate a huge model.
void check_config_fits_weights(const model::Wav2Vec2Config& c, int64_t ctc_outputs, bool pretraining,
                               const Value& state_dict, const std::string& where);

// The LibriSpeech letter dictionary of the released fine-tuned models (32 rows: <s>, <pad>,
// </s>, <unk>, |, E, T, A, O, N, ...), used when a 32-output model comes without one.
data::Dictionary librispeech_letters();

}  // namespace w2v::ckpt
