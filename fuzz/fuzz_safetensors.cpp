// fuzz-sources: src/checkpoint/value.cpp src/checkpoint/safetensors.cpp src/checkpoint/json_file.cpp
// fuzz-sources: src/checkpoint/mapped_file.cpp src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -ltorch -ltorch_cpu -lc10 -lfmt
// fuzz-options: -max_len=16384
// libFuzzer harness for the safetensors reader (header length, strict JSON header, dtypes,
// shapes, data_offsets tiling): a dict of tensors or a w2v::Error, nothing else.
#include <cstdint>

#include "checkpoint/safetensors.h"
#include "fuzz_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = w2v::fuzz::as_file(data, size);
  try {
    w2v::ckpt::load_safetensors(path);
  } catch (const w2v::Error&) {
  }
  return 0;
}
