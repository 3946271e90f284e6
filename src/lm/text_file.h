// Line-oriented text input and output that is transparently gzip-compressed: corpora and ARPA
// files may be plain or .gz, and stdin is "-". Lines keep their exact bytes (no trimming);
// the reader also tells whether the last line ended with '\n', because lmplz treats an
// unterminated last line differently (no </s>).
#pragma once

#include <zlib.h>

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace w2v::lm {

class LineReader {
 public:
  // path "-" reads stdin. Throws w2v::Error naming the path if it cannot be opened.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its '\n'; the view is valid until the next call. False at end of input.
  bool next(std::string_view& line);
  long line_number() const { return line_number_; }
  // Whether the line last returned by next() ended with '\n'.
  bool terminated() const { return terminated_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();

  std::string path_;
  gzFile file_ = nullptr;
  std::unique_ptr<char[]> buffer_;  // not zero-filled: only what is read is touched
  size_t capacity_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool terminated_ = true;
  long line_number_ = 0;
};

// Writes path atomically (util/fs.h); gzip-compressed when path ends in ".gz".
void write_text_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace w2v::lm
