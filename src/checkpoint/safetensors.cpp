#include "checkpoint/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "checkpoint/json_file.h"
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
  // Read in the order of the data (the file's header order is free), checked as the
  // safetensors library checks: the data_offsets tile the data section exactly.
  const nlohmann::ordered_json header = parse_json(data.substr(8, n), path + ": safetensors header");
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  const std::string_view body = data.substr(8 + n);
  struct Entry {
    std::string name;
    torch::ScalarType dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor " + name;
    try {
      Entry e{name, dtype_of(info.at("dtype").get<std::string>(), where), info.at("shape").get<std::vector<int64_t>>(), 0, 0};
      auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > body.size())
        throw Error(fmt::format("{}: data_offsets outside the data section of {} bytes", where, body.size()));
      e.begin = offsets[0];
      e.end = offsets[1];
      uint64_t numel = 1;
      for (int64_t s : e.shape) {
        if (s < 0 || (s > 0 && numel > body.size() / static_cast<uint64_t>(s)))
          throw Error(fmt::format("{}: shape [{}] does not fit the file", where, fmt::join(e.shape, ", ")));
        numel *= static_cast<uint64_t>(s);
      }
      const uint64_t bytes = numel * c10::elementSize(e.dtype);
      if (bytes != e.end - e.begin)
        throw Error(fmt::format("{}: shape [{}] needs {} bytes, data_offsets span {}", where, fmt::join(e.shape, ", "),
                                bytes, e.end - e.begin));
      entries.push_back(std::move(e));
    } catch (const nlohmann::json::exception& ex) {
      throw Error(where + ": bad header entry: " + ex.what());
    }
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return std::make_pair(a->begin, a->end) < std::make_pair(b->begin, b->end);
  });
  uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != covered)
      throw Error(fmt::format("{}: tensor {}: data_offsets [{}, {}] {} the previous tensor's end {}", path, e->name,
                              e->begin, e->end, e->begin < covered ? "overlap" : "leave a gap after", covered));
    covered = e->end;
  }
  if (covered != body.size())
    throw Error(fmt::format("{}: tensors cover {} of the {} data bytes after the header", path, covered, body.size()));
  Value result = Value::dict(true);
  for (const Entry& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), body.data() + e.begin, e.end - e.begin);
    result.as_dict().items.emplace_back(Value::string(e.name), Value::tensor(t));  // names are unique
  }
  return result;
}

}  // namespace w2v::ckpt
