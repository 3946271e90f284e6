// The weights of a HuggingFace model directory, found as transformers' from_pretrained finds
// them: model.safetensors, else model.safetensors.index.json (sharded safetensors), else
// pytorch_model.bin, else pytorch_model.bin.index.json (sharded torch files). An index is
// {"metadata": {...}, "weight_map": {tensor: shard file}}; every shard is read and checked
// against it.
#pragma once

#include <string>

#include "checkpoint/value.h"

namespace w2v::ckpt {

struct HfWeights {
  Value tensors;       // ordered dict name -> tensor, shards in index order
  std::string source;  // the weights file or index read, for later error messages
};

// w2v::Error (one line naming the file and the tensor or shard) for: no weights file, a bad
// index, a shard that is missing or outside `dir`, a tensor the index names but its shard lacks,
// a tensor in a shard that the index does not map there, a tensor in two shards.
HfWeights load_huggingface_weights(const std::string& dir);

}  // namespace w2v::ckpt
