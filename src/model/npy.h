// NumPy .npy (format 1.0) writer for feature and logit dumps: `numpy.load` reads the file
// back with the tensor's shape and dtype (float32/float64/int64/int32/bool, little endian).
#pragma once

#include <torch/types.h>

#include <string>

namespace w2v::model {

// The complete .npy byte string of a CPU tensor (made contiguous first).
std::string npy_bytes(const torch::Tensor& t);

// Writes npy_bytes(t) atomically; w2v::Error naming the path on failure or unsupported dtype.
void write_npy(const std::string& path, const torch::Tensor& t);

}  // namespace w2v::model
