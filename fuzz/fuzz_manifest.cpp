// fuzz-sources: src/data/manifest.cpp src/data/labels.cpp src/data/dictionary.cpp src/audio/audio.cpp
// fuzz-sources: src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -lsndfile -lsoxr
// fuzz-options: -max_len=16384
// libFuzzer harness for the text readers of the data pipeline: the first input byte chooses the
// reader (manifest .tsv, transcripts TSV, fairseq dictionary, label file + dictionary built from
// it), the rest is the file. Any input must load or give a w2v::Error; never a crash, a sanitizer
// report, a hang or an allocation beyond the file's size. Build: fuzz/build.sh; run:
// fuzz/run.sh manifest SECONDS.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "data/dictionary.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "util/error.h"

namespace {

// The readers open files by path (as the CLI does): an in-memory file.
std::string memory_file(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("w2v_fuzz_manifest", 0);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return "";
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string path = memory_file(data + 1, size - 1);
  if (path.empty()) return 0;
  try {
    switch (data[0] % 4) {
      case 0: {
        const w2v::data::Manifest m = w2v::data::Manifest::load(path);
        for (size_t i = 0; i < m.entries.size(); ++i) m.full_path(i);
        break;
      }
      case 1: {
        const w2v::data::Transcripts t = w2v::data::Transcripts::load(path);
        std::string key;
        try {
          t.find("a/b.wav", &key);
        } catch (const w2v::Error&) {
        }
        break;
      }
      case 2: {
        const w2v::data::Dictionary d = w2v::data::Dictionary::load(path);
        d.decode(d.encode("A B | C"));
        break;
      }
      case 3: {
        for (const std::string& line : w2v::data::read_labels(path)) w2v::data::invalid_characters(line);
        const w2v::data::Dictionary d = w2v::data::Dictionary::build(path);
        if (d.size() < w2v::data::Dictionary::kNumSpecial) __builtin_trap();
        break;
      }
    }
  } catch (const w2v::Error&) {
  }
  return 0;
}
