#include "lm/model_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "util/error.h"

namespace w2v::lm {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

void* model_memory(size_t bytes, const std::string& path) {
  const size_t size = round_up(bytes == 0 ? 1 : bytes);
  // One huge page more than needed, then the unaligned head and tail are unmapped, so the
  // region starts on a 2 MiB boundary and munmap(p, size) releases exactly what is left.
  const size_t span = size + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw file_error(path, 0, fmt::format("cannot allocate {} bytes for the model", bytes));
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) ::munmap(raw, aligned - start);
  const size_t tail = start + span - (aligned + size);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only (without THP the 4 KiB pages still work); not for small models, where a huge
  // page would only cost its zeroing (the fuzzers load thousands of tiny files).
  if (bytes >= kHugePage) ::madvise(p, size, MADV_HUGEPAGE);
  return p;
}

void release_model_memory(void* p, size_t bytes) {
  if (p) ::munmap(p, round_up(bytes == 0 ? 1 : bytes));
}

void* read_model_file(const std::string& path, size_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw file_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    throw file_error(path, 0, "cannot read the binary LM's size (empty file?)");
  }
  const size_t bytes = static_cast<size_t>(st.st_size);
  char* p;
  try {
    p = static_cast<char*>(model_memory(bytes, path));
  } catch (...) {
    ::close(fd);
    throw;
  }
  for (size_t done = 0; done < bytes;) {
    const ssize_t got = ::read(fd, p + done, bytes - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const std::string why = got < 0 ? std::strerror(errno) : "file shrank while reading";
      ::close(fd);
      release_model_memory(p, bytes);
      throw file_error(path, 0, "cannot read: " + why);
    }
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  *size = bytes;
  return p;
}

}  // namespace w2v::lm
