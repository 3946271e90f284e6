// Reader of HuggingFace's .safetensors files: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw tensor bytes.
#pragma once

#include <string>

#include "checkpoint/value.h"

namespace w2v::ckpt {

// The tensors as an ordered dict name -> tensor, in header order ("__metadata__", free-form
// strings such as {"format": "pt"}, is not part of the result). Offsets, shapes and dtypes are
// checked against the file; errors are w2v::Error naming the path and the tensor.
Value load_safetensors(const std::string& path);

}  // namespace w2v::ckpt
