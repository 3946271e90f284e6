// fuzz-sources: src/lm/arpa.cpp src/lm/text_file.cpp src/lm/ngram_model.cpp src/lm/kenlm_model.cpp src/lm/model_memory.cpp
// fuzz-sources: src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -lz -lfmt
// fuzz-options: -max_len=8192
// libFuzzer harness for the ARPA reader, plain and gzip: the first input byte chooses whether the
// rest is loaded as it is (plain text, or raw gzip when it starts with 1f 8b) or gzip-compressed
// first, so the parser behind zlib sees every mutation. Any input must give a model that scores
// text, or a w2v::Error; never a crash, a sanitizer report, a hang or an allocation beyond what
// the file's size allows. Build: fuzz/build.sh; run: fuzz/run.sh arpa SECONDS.
#include <zlib.h>

#include <cstdint>
#include <string>

#include "lm/ngram_model.h"
#include "fuzz_file.h"
#include "lm_fuzz_util.h"
#include "util/error.h"

namespace {

std::string gzip(const uint8_t* data, size_t size) {
  static z_stream z = [] {
    z_stream s{};
    deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    return s;
  }();
  deflateReset(&z);  // one stream for all runs: its 256 KB state is not reallocated per input
  std::string out(deflateBound(&z, size) + 32, '\0');
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string bytes = data[0] & 1 ? gzip(data + 1, size - 1) : std::string(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string& path = w2v::fuzz::as_file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    w2v::lm::fuzz::exercise(*w2v::lm::open_language_model(path));
  } catch (const w2v::Error&) {
  }
  return 0;
}
