#include "checkpoint/safetensors.h"

#include <fmt/format.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "checkpoint/mapped_file.h"
#include "util/error.h"

namespace w2v::ckpt {

namespace {

torch::ScalarType dtype_of(const std::string& s, const std::string& where) {
  static const std::pair<const char*, torch::ScalarType> kTypes[] = {
      {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},     {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool},
  };
  for (const auto& [name, t] : kTypes)
    if (s == name) return t;
  throw Error(where + ": unsupported dtype '" + s + "'");
}

}  // namespace

Value load_safetensors(const std::string& path) {
  MappedFile file(path);
  std::string_view data = file.data();
  if (data.size() < 8) throw Error(path + ": too short for a safetensors file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
  if (n > data.size() - 8) throw Error(fmt::format("{}: header of {} bytes exceeds the file", path, n));
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(data.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": bad safetensors header: " + e.what());
  }
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  const std::string_view body = data.substr(8 + n);
  Value result = Value::dict(true);
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor " + name;
    try {
      torch::ScalarType dtype = dtype_of(info.at("dtype").get<std::string>(), where);
      std::vector<int64_t> shape = info.at("shape").get<std::vector<int64_t>>();
      auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > body.size())
        throw Error(fmt::format("{}: data_offsets outside the data section of {} bytes", where, body.size()));
      uint64_t numel = 1;
      for (int64_t s : shape) {
        if (s < 0 || (s > 0 && numel > body.size() / static_cast<uint64_t>(s)))
          throw Error(fmt::format("{}: shape [{}] does not fit the file", where, fmt::join(shape, ", ")));
        numel *= static_cast<uint64_t>(s);
      }
      const uint64_t bytes = numel * c10::elementSize(dtype);
      if (bytes != offsets[1] - offsets[0])
        throw Error(fmt::format("{}: shape [{}] needs {} bytes, data_offsets span {}", where, fmt::join(shape, ", "),
                                bytes, offsets[1] - offsets[0]));
      torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
      if (bytes) std::memcpy(t.data_ptr(), body.data() + offsets[0], bytes);
      result.set(name, Value::tensor(t));
    } catch (const nlohmann::json::exception& e) {
      throw Error(where + ": bad header entry: " + e.what());
    }
  }
  return result;
}

}  // namespace w2v::ckpt
