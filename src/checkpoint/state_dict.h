// A module's tensors <-> a state-dict Value (ordered dict name -> tensor), with the checks that
// make a wrong checkpoint fail loudly: every parameter and buffer must be present with its
// exact shape and nothing may be left over.
#pragma once

#include <torch/nn/module.h>

#include <string>

#include "checkpoint/value.h"

namespace w2v::ckpt {

// Parameters then buffers under their dotted names (fairseq keys for our models); tensors are
// detached views of the module's own (no copy).
Value state_dict(const torch::nn::Module& module);

// Copies `sd` into the module (converting dtypes, e.g. fp16 checkpoints into fp32 weights).
// Missing, unexpected or mis-shaped entries are one w2v::Error "<where>: ..." naming the keys
// (and both shapes); nothing is copied unless everything matches.
void load_state_dict(torch::nn::Module& module, const Value& sd, const std::string& where);

// fairseq-side key normalisation shared by every importer: weight-norm tensors stored by
// PyTorch parametrizations ("<m>.parametrizations.weight.original0/1") become "<m>.weight_g" /
// "<m>.weight_v"; a folded "encoder.pos_conv.0.weight" (suffix match) is split back into g/v.
// Errors (a non-tensor, a folded kernel that is a repeating view) name `where`.
Value normalize_weight_norm(const Value& sd, const std::string& where);

}  // namespace w2v::ckpt
