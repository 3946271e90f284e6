// Python pickle (protocols 2-5) to Value and Value to pickle protocol 2: the object format
// inside PyTorch files. The unpickler never executes anything: known globals (tensor rebuild
// functions, OrderedDict, numpy scalars, bytes-as-latin1) are interpreted, every other class
// becomes an opaque Object, and all lengths, offsets and memo indices are checked against the
// input, so a hostile file yields w2v::Error "<name>: pickle: ... at byte N", never a crash.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "checkpoint/value.h"

namespace w2v::ckpt {

// Resolves a BINPERSID id (PyTorch: a "storage" tuple) to a value; for storages, a flat 1-D
// tensor of the storage's dtype that tensors are then rebuilt as views of.
using PersistentLoad = std::function<Value(const Value& pid)>;

// Unpickles one pickle starting at data[0]. `consumed`, when given, receives the number of
// bytes up to and including STOP (legacy PyTorch files are several pickles in a row).
Value unpickle(std::string_view data, const std::string& name, const PersistentLoad& persistent_load,
               size_t* consumed = nullptr);

// Returns the key under which `tensor`'s whole storage will be written; the pickler emits
// PyTorch's persistent id for it and a _rebuild_tensor_v2 view (offset, sizes, strides).
using StorageKey = std::function<std::string(const torch::Tensor& tensor)>;

// Protocol-2 pickle of `v`, readable by Python's torch.load. Tensors must live on the CPU.
std::string pickle(const Value& v, const StorageKey& storage_key);

// The torch.<X>Storage class name of a dtype and back ("FloatStorage" <-> float32); the
// reverse throws w2v::Error for unknown names.
std::string storage_class(torch::ScalarType dtype);
torch::ScalarType storage_dtype(const std::string& class_name, const std::string& where);

}  // namespace w2v::ckpt
