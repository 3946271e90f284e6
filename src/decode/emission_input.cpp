#include "decode/emission_input.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>

#include "decode/emission_file.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::decode {

namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";

std::string file_stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  for (const char* suffix : {".npy", ".logits"})
    if (name.size() > std::strlen(suffix) && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      name.resize(name.size() - std::strlen(suffix));
  return name;
}

template <class T>
void copy_values(const std::string& path, const char* from, EmissionMatrix& e) {
  const size_t count = static_cast<size_t>(e.frames) * e.vocab;
  e.data.resize(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, from + i * sizeof(T), sizeof(T));
    if (!std::isfinite(v))
      throw file_error(path, 0, "frame " + std::to_string(i / e.vocab) + ", token " + std::to_string(i % e.vocab) +
                                    ": the value is not finite");
    e.data[i] = static_cast<float>(v);
  }
}

bool is_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, 0, "cannot open the file");
  char head[6] = {};
  in.read(head, sizeof head);
  return in.gcount() == 6 && std::memcmp(head, kNpyMagic, 6) == 0;
}

}  // namespace

EmissionMatrix read_npy_emissions(const std::string& path) {
  const std::string content = read_file(path);
  if (content.size() < 10 || content.compare(0, 6, kNpyMagic, 6) != 0)
    throw file_error(path, 0, "not a NumPy .npy file (expected the magic \\x93NUMPY)");
  const int major = static_cast<unsigned char>(content[6]);
  size_t header_len = 0, pos = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(content[8]) | static_cast<unsigned char>(content[9]) << 8;
    pos = 10;
  } else if (major == 2 || major == 3) {
    if (content.size() < 12) throw file_error(path, 0, "truncated .npy header");
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(content[8 + i]);
    pos = 12;
  } else {
    throw file_error(path, 0, ".npy format version " + std::to_string(major) + " (expected 1, 2 or 3)");
  }
  if (content.size() - pos < header_len) throw file_error(path, 0, "truncated .npy header");
  const std::string header = content.substr(pos, header_len);
  pos += header_len;
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    throw file_error(path, 0, "the .npy header has no 'descr'");
  const std::string descr = m[1];
  if (descr != "<f4" && descr != "<f8")
    throw file_error(path, 0, "dtype '" + descr + "' (expected float32 '<f4' or float64 '<f8')");
  if (!std::regex_search(header, m, std::regex("'fortran_order':\\s*False")))
    throw file_error(path, 0, "a Fortran-order array (expected C order)");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    throw file_error(path, 0, "the .npy header has no 'shape'");
  std::vector<uint64_t> shape;
  const std::string dims = m[1];
  for (size_t at = 0; at < dims.size();) {
    const size_t comma = std::min(dims.find(',', at), dims.size());
    std::string d = dims.substr(at, comma - at);
    d.erase(0, d.find_first_not_of(' '));
    d.erase(d.find_last_not_of(' ') + 1);
    at = comma + 1;
    if (d.empty()) continue;  // "(5,)"
    if (d.size() > 12 || d.find_first_not_of("0123456789") != std::string::npos)
      throw file_error(path, 0, "shape (" + dims + "): '" + d + "' is not a dimension");
    shape.push_back(std::stoull(d));
  }
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2)
    throw file_error(path, 0, "shape (" + dims + "): expected [frames, vocab] or [1, frames, vocab] logits");
  const size_t item = descr == "<f4" ? 4 : 8;
  if (shape[1] < 3 || shape[1] > (1u << 20) || shape[0] > (1ull << 31))
    throw file_error(path, 0, "shape (" + dims + "): expected at least 3 tokens per frame and fewer than 2^31 frames");
  const uint64_t count = shape[0] * shape[1];
  if ((content.size() - pos) != count * item)
    throw file_error(path, 0, "shape (" + dims + ") needs " + std::to_string(count * item) + " data bytes, the file has " +
                                  std::to_string(content.size() - pos));
  EmissionMatrix e;
  e.frames = static_cast<int>(shape[0]);
  e.vocab = static_cast<int>(shape[1]);
  if (item == 4) copy_values<float>(path, content.data() + pos, e);
  else copy_values<double>(path, content.data() + pos, e);
  return e;
}

std::vector<EmissionMatrix> load_emission_inputs(const std::vector<std::string>& paths) {
  size_t emission_files = 0;
  std::vector<std::pair<std::string, bool>> kinds;  // path, is npy
  for (const auto& p : paths) {
    const bool npy = is_npy(p);
    emission_files += !npy;
    kinds.emplace_back(p, npy);
  }
  std::vector<EmissionMatrix> out;
  for (const auto& [path, npy] : kinds) {
    if (npy) {
      out.push_back(read_npy_emissions(path));
      out.back().id = file_stem(path);
      continue;
    }
    for (auto& u : read_emissions(path)) {
      if (emission_files > 1) u.id = path + ":" + u.id;
      out.push_back(std::move(u));
    }
  }
  return out;
}

}  // namespace w2v::decode
