#include "checkpoint/zip.h"

#include <fmt/format.h>
#include <zlib.h>

#include <ostream>

#include "util/error.h"

namespace w2v::ckpt {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr uint64_t k32 = 0xFFFFFFFFu;

uint64_t rd(std::string_view d, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(d[at + i])) << (8 * i);
  return v;
}

void wr(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const size_t chunk = size_t{1} << 30;
  for (size_t i = 0; i < data.size(); i += chunk) {
    size_t n = std::min(chunk, data.size() - i);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + i), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

ZipReader::ZipReader(std::string_view archive, std::string name) : archive_(archive), name_(std::move(name)) {
  auto fail = [&](const std::string& what) { return Error(name_ + ": zip: " + what); };
  const uint64_t n = archive.size();
  auto need = [&](uint64_t at, uint64_t len, const char* what) {
    if (at > n || len > n - at) throw fail(fmt::format("{} at offset {} lies outside the file ({} bytes)", what, at, n));
  };
  if (n < 22) throw fail("file too short for a zip archive");
  uint64_t eocd = n;
  for (uint64_t p = n - 22 + 1; p-- > 0 && n - p <= 22 + 65535;) {
    if (rd(archive, p, 4) == kEndSig) {
      eocd = p;
      break;
    }
  }
  if (eocd == n) throw fail("end of central directory not found (truncated file?)");
  uint64_t count = rd(archive, eocd + 10, 2), cd_size = rd(archive, eocd + 12, 4), cd_offset = rd(archive, eocd + 16, 4);
  if (eocd >= 20 && rd(archive, eocd - 20, 4) == kZip64LocatorSig) {
    uint64_t z64 = rd(archive, eocd - 20 + 8, 8);
    need(z64, 56, "ZIP64 end record");
    if (rd(archive, z64, 4) != kZip64EndSig) throw fail("bad ZIP64 end record signature");
    count = rd(archive, z64 + 32, 8);
    cd_size = rd(archive, z64 + 40, 8);
    cd_offset = rd(archive, z64 + 48, 8);
  }
  need(cd_offset, cd_size, "central directory");
  uint64_t p = cd_offset, end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (p + 46 > end) throw fail(fmt::format("central directory truncated after {} of {} entries", i, count));
    if (rd(archive, p, 4) != kCentralSig) throw fail(fmt::format("bad central directory entry at offset {}", p));
    Entry e;
    e.method = static_cast<uint16_t>(rd(archive, p + 10, 2));
    uint64_t csize = rd(archive, p + 20, 4), usize = rd(archive, p + 24, 4);
    uint64_t name_len = rd(archive, p + 28, 2), extra_len = rd(archive, p + 30, 2), comment_len = rd(archive, p + 32, 2);
    uint64_t local = rd(archive, p + 42, 4);
    if (p + 46 + name_len + extra_len + comment_len > end) throw fail("central directory entry exceeds the directory");
    std::string entry(archive.substr(p + 46, name_len));
    // ZIP64 extra field: the 64-bit values of the fields saturated at 0xFFFFFFFF, in order.
    for (uint64_t x = p + 46 + name_len; x + 4 <= p + 46 + name_len + extra_len;) {
      uint64_t id = rd(archive, x, 2), len = rd(archive, x + 2, 2), q = x + 4;
      if (q + len > p + 46 + name_len + extra_len) throw fail("bad extra field in entry " + entry);
      if (id == 1) {
        auto next = [&](uint64_t& field) {
          if (field != k32) return;
          if (q + 8 > x + 4 + len) throw fail("short ZIP64 extra field in entry " + entry);
          field = rd(archive, q, 8);
          q += 8;
        };
        next(usize);
        next(csize);
        next(local);
      }
      x += 4 + len;
    }
    need(local, 30, ("local header of " + entry).c_str());
    if (rd(archive, local, 4) != kLocalSig) throw fail("bad local header of entry " + entry);
    e.offset = local + 30 + rd(archive, local + 26, 2) + rd(archive, local + 28, 2);
    e.size = csize;
    if (e.method == 0 && csize != usize) throw fail("stored entry " + entry + " has different sizes");
    need(e.offset, e.size, ("data of entry " + entry).c_str());
    // Readers disagree on which of two same-named entries counts: such a file is ambiguous.
    if (!entries_.emplace(entry, e).second) throw fail("entry " + entry + " appears twice");
    names_.push_back(entry);
    p += 46 + name_len + extra_len + comment_len;
  }
}

std::string_view ZipReader::get(const std::string& entry) const {
  auto it = entries_.find(entry);
  if (it == entries_.end()) throw Error(name_ + ": zip: missing entry " + entry);
  if (it->second.method != 0)
    throw Error(name_ + ": zip: entry " + entry + " is compressed (method " + std::to_string(it->second.method) +
                "); PyTorch files store entries uncompressed");
  return archive_.substr(it->second.offset, it->second.size);
}

void ZipWriter::put(std::string_view bytes) {
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  pos_ += bytes.size();
}

void ZipWriter::add(const std::string& entry, std::string_view data) {
  const bool z64 = data.size() >= zip64_from_ || pos_ >= zip64_from_;
  const uint32_t crc = crc32_of(data);
  std::string h;
  wr(h, kLocalSig, 4);
  wr(h, z64 ? 45 : 20, 2);  // version needed
  wr(h, 0, 2);              // flags
  wr(h, 0, 2);              // stored
  wr(h, 0, 4);              // time, date
  wr(h, crc, 4);
  wr(h, z64 ? k32 : data.size(), 4);
  wr(h, z64 ? k32 : data.size(), 4);
  std::string extra;
  if (z64) {
    wr(extra, 1, 2);
    wr(extra, 16, 2);
    wr(extra, data.size(), 8);
    wr(extra, data.size(), 8);
  }
  // Padding extra field ("FB", as PyTorch writes) so that the data starts 64-byte aligned.
  uint64_t data_start = pos_ + 30 + entry.size() + extra.size() + 4;
  uint64_t pad = (64 - data_start % 64) % 64;
  wr(extra, 0x4246, 2);
  wr(extra, pad, 2);
  extra.append(pad, 'Z');
  wr(h, entry.size(), 2);
  wr(h, extra.size(), 2);
  h += entry;
  h += extra;
  written_.push_back({entry, pos_, data.size(), crc});
  put(h);
  put(data);
}

void ZipWriter::finish() {
  const uint64_t cd_offset = pos_;
  for (const Written& w : written_) {
    const bool z64 = w.size >= zip64_from_ || w.offset >= zip64_from_;
    std::string extra;
    if (z64) {
      wr(extra, 1, 2);
      wr(extra, 24, 2);
      wr(extra, w.size, 8);
      wr(extra, w.size, 8);
      wr(extra, w.offset, 8);
    }
    std::string c;
    wr(c, kCentralSig, 4);
    wr(c, z64 ? 45 : 20, 2);  // made by
    wr(c, z64 ? 45 : 20, 2);  // needed
    wr(c, 0, 2);
    wr(c, 0, 2);
    wr(c, 0, 4);
    wr(c, w.crc, 4);
    wr(c, z64 ? k32 : w.size, 4);
    wr(c, z64 ? k32 : w.size, 4);
    wr(c, w.name.size(), 2);
    wr(c, extra.size(), 2);
    wr(c, 0, 2);  // comment
    wr(c, 0, 2);  // disk
    wr(c, 0, 2);  // internal attributes
    wr(c, 0, 4);  // external attributes
    wr(c, z64 ? k32 : w.offset, 4);
    c += w.name;
    c += extra;
    put(c);
  }
  const uint64_t cd_size = pos_ - cd_offset, count = written_.size();
  const bool z64 = count >= 0xFFFF || cd_offset >= zip64_from_ || cd_size >= zip64_from_;
  std::string e;
  if (z64) {
    const uint64_t z64_offset = pos_;
    wr(e, kZip64EndSig, 4);
    wr(e, 44, 8);  // size of the rest of this record
    wr(e, 45, 2);
    wr(e, 45, 2);
    wr(e, 0, 4);
    wr(e, 0, 4);
    wr(e, count, 8);
    wr(e, count, 8);
    wr(e, cd_size, 8);
    wr(e, cd_offset, 8);
    wr(e, kZip64LocatorSig, 4);
    wr(e, 0, 4);
    wr(e, z64_offset, 8);
    wr(e, 1, 4);
  }
  wr(e, kEndSig, 4);
  wr(e, 0, 2);
  wr(e, 0, 2);
  wr(e, z64 ? 0xFFFF : count, 2);
  wr(e, z64 ? 0xFFFF : count, 2);
  wr(e, z64 ? k32 : cd_size, 4);
  wr(e, z64 ? k32 : cd_offset, 4);
  wr(e, 0, 2);
  put(e);
}

}  // namespace w2v::ckpt
