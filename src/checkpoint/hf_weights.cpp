#include "checkpoint/hf_weights.h"

#include <filesystem>
#include <map>
#include <unordered_map>

#include "checkpoint/json_file.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/torch_file.h"
#include "util/error.h"

namespace w2v::ckpt {

namespace {

namespace fs = std::filesystem;

// Reads the shards an index names; `load` reads one shard file.
Value load_sharded(const std::string& dir, const std::string& index_path, Value (*load)(const std::string&)) {
  const nlohmann::ordered_json index = read_json_file(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw Error(index_path + ": expected an object with a \"weight_map\" object {tensor: shard file}");
  // Shards in the order the index first names them; the tensors each must hold.
  std::vector<std::string> shards;
  std::map<std::string, std::unordered_map<std::string, bool>> wanted;  // shard -> tensor -> seen
  for (const auto& [tensor, file] : index["weight_map"].items()) {
    if (!file.is_string())
      throw Error(index_path + ": weight_map['" + tensor + "'] is " + file.dump() + ", expected a shard file name");
    const std::string name = file.get<std::string>();
    // A shard is a file next to the index: a path could make us read anything on the disk.
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      throw Error(index_path + ": weight_map['" + tensor + "']: shard '" + name + "' is not a file name in " + dir);
    if (!wanted.count(name)) shards.push_back(name);
    wanted[name][tensor] = false;
  }
  if (shards.empty()) throw Error(index_path + ": weight_map is empty");
  Value merged = Value::dict(true);
  std::unordered_map<std::string, std::string> shard_of;  // tensor -> shard that held it
  for (const std::string& name : shards) {
    const std::string path = dir + "/" + name;
    // The name comes from the file: an overlong or unreadable one is an error in the index, not a crash.
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw Error(index_path + ": shard '" + name + "' (holding '" + wanted[name].begin()->first + "' and " +
                  std::to_string(wanted[name].size() - 1) + " more tensors) is missing" +
                  (ec && ec != std::errc::no_such_file_or_directory ? " (" + ec.message() + ")" : ""));
    Value shard = load(path);
    auto& expect = wanted[name];
    for (const auto& [k, t] : shard.as_dict(path).items) {
      const std::string& key = k.as_string(path + ": key");
      auto [it, fresh] = shard_of.emplace(key, name);
      if (!fresh) throw Error(path + ": tensor '" + key + "' is also in shard '" + it->second + "'");
      auto want = expect.find(key);
      if (want == expect.end()) {
        const auto& map = index["weight_map"];
        throw Error(path + ": tensor '" + key + "' is not mapped to this shard by " + index_path +
                    (map.contains(key) ? " (it names '" + map[key].get<std::string>() + "')" : " (it is not in the index)"));
      }
      if (!t.is(Value::Kind::Tensor)) throw Error(path + ": '" + key + "' is " + t.type_name() + ", expected a tensor");
      want->second = true;
      merged.as_dict().items.emplace_back(k, t);  // unique: checked through shard_of
    }
    for (const auto& [key, seen] : expect)
      if (!seen) throw Error(index_path + ": tensor '" + key + "' is mapped to shard '" + name + "', which does not contain it");
  }
  return merged;
}

}  // namespace

HfWeights load_huggingface_weights(const std::string& dir) {
  const std::pair<const char*, bool> candidates[] = {
      {"model.safetensors", false}, {"model.safetensors.index.json", true},
      {"pytorch_model.bin", false}, {"pytorch_model.bin.index.json", true}};
  for (const auto& [file, sharded] : candidates) {
    const std::string path = dir + "/" + file;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (ec && ec != std::errc::no_such_file_or_directory) throw Error(path + ": " + ec.message());
      continue;
    }
    const bool safetensors = std::string(file).rfind("model.safetensors", 0) == 0;
    HfWeights w{Value(), path};
    if (sharded) w.tensors = load_sharded(dir, path, safetensors ? load_safetensors : load_torch_file);
    else w.tensors = safetensors ? load_safetensors(path) : load_torch_file(path);
    if (!w.tensors.is(Value::Kind::Dict)) throw Error(path + ": holds " + w.tensors.type_name() + ", expected a state dict");
    return w;
  }
  throw Error(dir + ": no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json");
}

}  // namespace w2v::ckpt
