// A whole file mapped read-only into memory: checkpoints are read in place, so loading a
// multi-GiB file does not first copy it into a buffer.
#pragma once

#include <string>
#include <string_view>

namespace w2v::ckpt {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // w2v::Error naming the path on failure
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace w2v::ckpt
