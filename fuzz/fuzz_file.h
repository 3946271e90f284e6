// Shared by the fuzz harnesses whose readers take a path: the input as an in-memory file.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace w2v::fuzz {

// Writes the bytes to one memfd per process and returns a path that opens it.
inline const std::string& as_file(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("w2v_fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) ::abort();
  return path;
}

}  // namespace w2v::fuzz
