#include "model/npy.h"

#include "util/error.h"
#include "util/fs.h"

namespace w2v::model {

namespace {

std::string descr(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "<f4";
    case torch::kDouble: return "<f8";
    case torch::kLong: return "<i8";
    case torch::kInt: return "<i4";
    case torch::kBool: return "|b1";
    default: throw Error(std::string("cannot write dtype ") + c10::toString(t) + " as .npy");
  }
}

}  // namespace

std::string npy_bytes(const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  std::string shape = "(";
  for (int64_t i = 0; i < t.dim(); ++i) shape += std::to_string(t.size(i)) + (t.dim() == 1 ? ",)" : i + 1 < t.dim() ? ", " : ")");
  if (t.dim() == 0) shape = "()";
  std::string header = "{'descr': '" + descr(t.scalar_type()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, '\n'-terminated.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void write_npy(const std::string& path, const torch::Tensor& t) {
  std::string bytes;
  try {
    bytes = npy_bytes(t);
  } catch (const Error& e) {
    throw file_error(path, 0, e.what());
  }
  write_file_atomic(path, bytes);
}

}  // namespace w2v::model
