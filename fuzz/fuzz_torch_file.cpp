// fuzz-sources: src/checkpoint/value.cpp src/checkpoint/pickle.cpp src/checkpoint/zip.cpp
// fuzz-sources: src/checkpoint/mapped_file.cpp src/checkpoint/torch_file.cpp
// fuzz-sources: src/checkpoint/safetensors.cpp src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -ltorch -ltorch_cpu -lc10 -lfmt -lz
// fuzz-options: -max_len=65536
// libFuzzer harness for the PyTorch file reader (zip and legacy containers, pickle machine,
// tensor views) and the safetensors reader: any input must give a value or a w2v::Error,
// never a crash, a sanitizer report, a hang or an unbounded allocation. Build: fuzz/build.sh.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "checkpoint/safetensors.h"
#include "checkpoint/torch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The readers map files by path: hand them an in-memory file.
  static const int fd = ::memfd_create("w2v_fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  try {
    w2v::ckpt::load_torch_file(path);
  } catch (const w2v::Error&) {
  }
  try {
    w2v::ckpt::load_safetensors(path);
  } catch (const w2v::Error&) {
  }
  return 0;
}
