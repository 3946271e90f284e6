#include "lm/text_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <streambuf>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::lm {

LineReader::LineReader(const std::string& path) : path_(path == "-" ? "<stdin>" : path), buffer_(new char[1 << 16]), capacity_(1 << 16) {
  file_ = path == "-" ? gzdopen(::dup(0), "rb") : gzopen(path.c_str(), "rb");
  if (!file_) throw file_error(path_, 0, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(file_, 1 << 15);  // zlib allocates 3x this; bigger buffers cost page faults per file
}

LineReader::~LineReader() {
  if (file_) gzclose(file_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    std::unique_ptr<char[]> bigger(new char[capacity_ * 2]);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ *= 2;
  }
  int got = gzread(file_, buffer_.get() + end_, static_cast<unsigned>(capacity_ - end_));
  if (got < 0) {
    int code = 0;
    const char* message = gzerror(file_, &code);
    throw file_error(path_, line_number_ + 1, std::string("read failed: ") + message);
  }
  if (got == 0) eof_ = true;
  end_ += static_cast<size_t>(got);
  return got > 0;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = begin_;
  for (;;) {
    const void* nl = std::memchr(buffer_.get() + scanned, '\n', end_ - scanned);
    if (nl) {
      size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buffer_.get());
      line = std::string_view(buffer_.get() + begin_, pos - begin_);
      begin_ = pos + 1;
      terminated_ = true;
      ++line_number_;
      return true;
    }
    const size_t seen = end_ - begin_;  // bytes of this line already searched
    if (!fill()) break;
    scanned = begin_ + seen;
  }
  if (begin_ == end_) return false;
  line = std::string_view(buffer_.get() + begin_, end_ - begin_);
  begin_ = end_;
  terminated_ = false;
  ++line_number_;
  return true;
}

namespace {

// Deflates everything written to it into `sink` as one gzip member.
class GzipBuf : public std::streambuf {
 public:
  explicit GzipBuf(std::ostream& sink) : sink_(sink), in_(1 << 16), out_(1 << 16) {
    std::memset(&z_, 0, sizeof z_);
    if (deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error("gzip: cannot initialise zlib");
    setp(in_.data(), in_.data() + in_.size());
  }
  ~GzipBuf() override { deflateEnd(&z_); }
  void finish() {
    compress(Z_FINISH);
  }

 protected:
  int_type overflow(int_type ch) override {
    compress(Z_NO_FLUSH);
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

 private:
  void compress(int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(pbase());
    z_.avail_in = static_cast<uInt>(pptr() - pbase());
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) throw Error("gzip: deflate failed");
      sink_.write(out_.data(), static_cast<std::streamsize>(out_.size() - z_.avail_out));
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    setp(in_.data(), in_.data() + in_.size());
  }

  std::ostream& sink_;
  z_stream z_;
  std::vector<char> in_, out_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void write_text_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (!ends_with(path, ".gz")) {
    write_atomic(path, write);
    return;
  }
  write_atomic(path, [&](std::ostream& sink) {
    GzipBuf buf(sink);
    std::ostream out(&buf);
    write(out);
    buf.finish();
  });
}

}  // namespace w2v::lm
