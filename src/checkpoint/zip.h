// The uncompressed ZIP container of PyTorch files (PyTorchFileWriter layout): entries are
// "stored" (no compression), their data 64-byte aligned so readers can map tensors in place.
// Both classes handle ZIP64, which checkpoints with optimizer state can need (> 4 GiB).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace w2v::ckpt {

// Index of a ZIP archive held in memory (usually a MappedFile). Every offset and size is
// checked against the buffer; errors are w2v::Error "<name>: zip: ...".
class ZipReader {
 public:
  ZipReader(std::string_view archive, std::string name);

  const std::vector<std::string>& names() const { return names_; }  // central-directory order
  bool has(const std::string& entry) const { return entries_.count(entry) > 0; }
  // The bytes of a stored entry; w2v::Error if it is absent or compressed.
  std::string_view get(const std::string& entry) const;

 private:
  struct Entry {
    uint64_t offset = 0, size = 0;
    uint16_t method = 0;
  };
  std::string_view archive_;
  std::string name_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, Entry> entries_;
};

// Writes stored entries with 64-byte aligned data, then the central directory on finish().
class ZipWriter {
 public:
  // Sizes and offsets >= zip64_from use ZIP64 records (the format's limit is 0xFFFFFFFF; tests
  // lower it to exercise the ZIP64 path on small files).
  explicit ZipWriter(std::ostream& out, uint64_t zip64_from = 0xFFFFFFFFu) : out_(out), zip64_from_(zip64_from) {}
  void add(const std::string& entry, std::string_view data);
  void finish();

 private:
  struct Written {
    std::string name;
    uint64_t offset, size;
    uint32_t crc;
  };
  void put(std::string_view bytes);
  std::ostream& out_;
  uint64_t zip64_from_;
  uint64_t pos_ = 0;
  std::vector<Written> written_;
};

}  // namespace w2v::ckpt
