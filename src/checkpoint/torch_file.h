// PyTorch's torch.save files, read and written by our own code (no torch::pickle_load).
// Reads the zip format (PyTorch >= 1.6, any top-level folder name, ZIP64) and the legacy
// stream format (magic, protocol, sys info, pickle, storage keys, raw storages); writes the
// zip format that Python's torch.load reads. Tensors that shared a storage in the file share
// one in memory (views keep their offsets and strides), and vice versa when saving.
#pragma once

#include <string>

#include "checkpoint/value.h"

namespace w2v::ckpt {

// The object saved in `path`. Every defect (truncation, bad magic, offsets or sizes outside
// the file, unknown storage types, cycles) is a w2v::Error starting with the path.
Value load_torch_file(const std::string& path);

// Saves `v` atomically (w2v::write_atomic) under the folder "archive/", as torch.save does
// when given a file object. Tensors must live on the CPU.
void save_torch_file(const std::string& path, const Value& v);

}  // namespace w2v::ckpt
