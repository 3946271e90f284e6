// ARPA back-off language-model files (the format of SRILM, KenLM's lmplz and most tools):
//   \data\, "ngram k=<count>" lines, then per order "\k-grams:" and lines
//   "<log10 p> <w1 ... wk> [<log10 backoff>]", then "\end\".
// Reading is streaming: the header counts first, then every n-gram in file order. Any deviation
// (missing section, wrong field count, bad number, count mismatch) is a w2v::Error with the
// file name and line number. The header's counts must fit the file (each k-gram line takes at
// least 2k + 2 bytes; a .gz file may expand 1032-fold; a pipe may hold kMaxStreamedArpaBytes),
// so what a file makes the reader's caller allocate is bounded by the file's size.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace w2v::lm {

// Text bytes assumed at most for an ARPA read from a pipe or other non-regular file (256 MiB).
constexpr uint64_t kMaxStreamedArpaBytes = uint64_t{256} << 20;

struct ArpaNgram {
  int order;                            // 1-based
  std::vector<std::string_view> words;  // valid during the callback only
  float log10_prob;
  float log10_backoff;                  // 0 when the column is absent
  long line;
};

class ArpaReader {
 public:
  // counts[k-1] = number of k-grams declared in \data\; called once before any n-gram.
  using HeaderFn = std::function<void(const std::vector<uint64_t>& counts)>;
  using NgramFn = std::function<void(const ArpaNgram&)>;
  static void read(const std::string& path, const HeaderFn& on_header, const NgramFn& on_ngram);
};

// One n-gram to write: words in natural order.
struct ArpaEntry {
  std::vector<std::string_view> words;
  float log10_prob;
  float log10_backoff;
};

// Writes the ARPA text lmplz writes: values as shortest round-trip floats, TAB-separated,
// no backoff column on the highest order. `section(k, emit)` must call emit for every k-gram.
void write_arpa(std::ostream& out, const std::vector<uint64_t>& counts,
                const std::function<void(int order, const std::function<void(const ArpaEntry&)>& emit)>& section);

}  // namespace w2v::lm
