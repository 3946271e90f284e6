// fuzz-sources: src/lm/arpa.cpp src/lm/text_file.cpp src/lm/ngram_model.cpp src/lm/kenlm_model.cpp src/lm/model_memory.cpp
// fuzz-sources: src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -lz -lfmt
// fuzz-options: -max_len=65536
// libFuzzer harness for the binary LM loaders behind open_language_model: KenLM's formats
// (probing - what `w2v lm compile` writes -, rest probing, trie, quantized, -a) and the refusal of
// w2v's former format. Seeds are KenLM's own files (tests/lm/data/kenlm). Any input must give a
// model that scores text and lists its words, or a w2v::Error; never a crash, a sanitizer
// report, a hang or an unbounded allocation.
// Build: fuzz/build.sh; run: fuzz/run.sh lm_binary SECONDS.
#include <cstdint>

#include "lm/ngram_model.h"
#include "fuzz_file.h"
#include "lm_fuzz_util.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = w2v::fuzz::as_file(data, size);
  try {
    w2v::lm::fuzz::exercise(*w2v::lm::open_language_model(path));
  } catch (const w2v::Error&) {
  }
  return 0;
}
