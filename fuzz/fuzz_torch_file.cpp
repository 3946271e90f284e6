// fuzz-sources: src/checkpoint/value.cpp src/checkpoint/pickle.cpp src/checkpoint/unpickle.cpp src/checkpoint/omegaconf.cpp
// fuzz-sources: src/checkpoint/zip.cpp src/checkpoint/mapped_file.cpp src/checkpoint/torch_file.cpp
// fuzz-sources: src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -ltorch -ltorch_cpu -lc10 -lfmt -lz
// fuzz-options: -max_len=65536
// libFuzzer harness for the PyTorch file reader (zip and legacy containers, pickle machine,
// tensor views), through load_torch_file as `w2v import/info` call it: any input must give a
// value or a w2v::Error, never a crash, a sanitizer report, a hang or an unbounded allocation.
#include <cstdint>

#include "checkpoint/torch_file.h"
#include "fuzz_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = w2v::fuzz::as_file(data, size);
  try {
    w2v::ckpt::load_torch_file(path);
  } catch (const w2v::Error&) {
  }
  return 0;
}
