// HuggingFace transformers checkpoints: a directory with config.json, the weights as
// model.safetensors or pytorch_model.bin, optionally vocab.json and preprocessor_config.json.
// Wav2Vec2ForCTC maps onto wav2vec_ctc and Wav2Vec2ForPreTraining onto wav2vec2; tensor names
// follow spec 9.4 (wav2vec2.* body, lm_head = w2v_encoder.proj, project_hid = final_proj,
// quantizer.codevectors = quantizer.vars). HF's vocab swaps the *names* of ids 0 and 1
// (<pad> = 0 is its CTC blank); rows are identical, so our dictionary keeps <s> at 0.
#pragma once

#include <string>

#include "checkpoint/model_io.h"

namespace w2v::ckpt {

// Errors name the file inside `dir` and the key (unknown architecture, non-GELU activations,
// layer_norm_eps != 1e-5, missing/extra/mis-shaped tensors).
LoadedModel load_huggingface(const std::string& dir);

// Writes config.json, pytorch_model.bin (torch.save zip format), preprocessor_config.json and,
// when the model has a dictionary, vocab.json into `dir` (created if needed), each atomically.
void save_huggingface(const std::string& dir, const LoadedModel& m);

// The HF name of one of our (fairseq) state-dict keys; w2v::Error for keys HF has no place for.
std::string huggingface_key(const std::string& fairseq_key);

}  // namespace w2v::ckpt
