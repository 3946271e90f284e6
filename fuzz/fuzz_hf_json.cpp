// fuzz-sources: src/checkpoint/hf_config.cpp src/checkpoint/hf_weights.cpp src/checkpoint/json_file.cpp
// fuzz-sources: src/checkpoint/safetensors.cpp src/checkpoint/torch_file.cpp src/checkpoint/value.cpp
// fuzz-sources: src/checkpoint/pickle.cpp src/checkpoint/unpickle.cpp src/checkpoint/omegaconf.cpp src/checkpoint/zip.cpp
// fuzz-sources: src/checkpoint/mapped_file.cpp src/model/config.cpp src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -ltorch -ltorch_cpu -lc10 -lfmt -lz
// fuzz-options: -max_len=16384
// libFuzzer harness for a HuggingFace directory's JSON: the first byte picks the file, the rest
// is its text. Even: config.json (read_huggingface_config); odd: model.safetensors.index.json
// (load_huggingface_weights), next to two valid shards model-0000{1,2}-of-00002.safetensors
// holding tensors a, b and c, so that an index can also name them right or wrong.
#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "checkpoint/hf_config.h"
#include "checkpoint/hf_weights.h"
#include "util/error.h"

namespace {

// A safetensors file of F32 tensors of 2 values each.
std::string shard(const std::string& names) {
  std::string header = "{";
  uint64_t at = 0;
  for (char n : names) {
    header += std::string(header.size() > 1 ? "," : "") + "\"" + n + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" +
              std::to_string(at) + "," + std::to_string(at + 8) + "]}";
    at += 8;
  }
  header += "}";
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + std::string(at, '\0');
}

const std::string& dir() {
  static const std::string d = [] {
    // Each input rewrites a file here: on tmpfs (/dev/shm) rather than the disk (/tmp: ext4,
    // where open with O_TRUNC was a quarter of each execution in perf), 12 000 executions took
    // 8.4-10.4 s of CPU instead of 15.2-16.7 s (same seed, 2026-11-30).
    char shm[] = "/dev/shm/w2v_fuzz_hf_XXXXXX";
    char tmp[] = "/tmp/w2v_fuzz_hf_XXXXXX";
    char* tmpl = ::mkdtemp(shm) ? shm : tmp;
    if (tmpl == tmp && !::mkdtemp(tmp)) ::abort();
    std::ofstream(std::string(tmpl) + "/model-00001-of-00002.safetensors", std::ios::binary) << shard("ab");
    std::ofstream(std::string(tmpl) + "/model-00002-of-00002.safetensors", std::ios::binary) << shard("c");
    return std::string(tmpl);
  }();
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool index = data[0] & 1;
  const std::string path = dir() + (index ? "/model.safetensors.index.json" : "/config.json");
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data + 1),
                                                                 static_cast<std::streamsize>(size - 1));
  try {
    if (index) w2v::ckpt::load_huggingface_weights(dir());
    else w2v::ckpt::read_huggingface_config(dir());
  } catch (const w2v::Error&) {
  }
  return 0;
}
