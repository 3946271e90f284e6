#include "checkpoint/torch_file.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <unordered_map>

#include "checkpoint/mapped_file.h"
#include "checkpoint/omegaconf.h"
#include "checkpoint/pickle.h"
#include "checkpoint/zip.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::ckpt {

namespace {

using K = Value::Kind;

// The pickled magic number 0x1950a86a20f9469cfc6c that starts a legacy file.
constexpr char kLegacyMagic[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";

struct StorageId {
  torch::ScalarType dtype;
  std::string key;
  int64_t numel;
};

// Validates a persistent id ("storage", torch.XStorage, key, location, numel[, view]).
StorageId parse_storage_id(const Value& pid, const std::string& name, size_t min_size) {
  if (!pid.is(K::Tuple) || pid.items().size() < min_size || !pid.items()[0].is(K::String) ||
      pid.items()[0].as_string() != "storage")
    throw Error(name + ": unexpected persistent id " + repr(pid));
  const List& a = pid.items();
  if (!a[1].is(K::Object) || a[1].as_object().module != "torch")
    throw Error(name + ": storage type is not a torch storage class: " + repr(a[1]));
  StorageId id{storage_dtype(a[1].as_object().name, name), a[2].as_string("storage key"), a[4].as_int("storage size")};
  if (id.numel < 0) throw Error(name + ": negative storage size for key " + id.key);
  return id;
}

// A fresh tensor of `numel` elements filled from `bytes`, after checking the sizes agree.
torch::Tensor storage_from(std::string_view bytes, const StorageId& id, const std::string& where) {
  const uint64_t elem = c10::elementSize(id.dtype);
  if (static_cast<uint64_t>(id.numel) > bytes.size() / elem)
    throw Error(fmt::format("{}: storage {} declares {} elements of {} bytes but only {} bytes are present", where,
                            id.key, id.numel, elem, bytes.size()));
  torch::Tensor t = torch::empty({id.numel}, torch::TensorOptions().dtype(id.dtype));
  if (id.numel > 0) std::memcpy(t.data_ptr(), bytes.data(), static_cast<size_t>(id.numel) * elem);
  return t;
}

// Every pickle read goes through here before anything can throw: omegaconf objects become plain
// containers, the parts of the original tree the plain one no longer holds (omegaconf objects
// and their `_parent` cycles) are emptied so they free, then cycles and deep nesting are refused
// (check_tree frees such trees first; a cyclic tree dropped otherwise would leak).
Value checked(Value v, const std::string& path) {
  Value plain = plain_omegaconf(v);
  release_unreachable({std::move(v)}, plain);
  check_tree(plain, path);
  return plain;
}

Value load_zip(std::string_view data, const std::string& path) {
  ZipReader zip(data, path);
  if (zip.names().empty()) throw Error(path + ": zip archive has no entries");
  const std::string& first = zip.names()[0];
  const std::string prefix = first.substr(0, first.find('/') + 1);
  if (prefix.empty() || !zip.has(prefix + "data.pkl"))
    throw Error(path + ": zip archive without <folder>/data.pkl: not a PyTorch file");
  if (zip.has(prefix + "byteorder") && zip.get(prefix + "byteorder") != "little")
    throw Error(path + ": big-endian PyTorch files are not supported");
  std::unordered_map<std::string, torch::Tensor> storages;
  PersistentLoad load = [&](const Value& pid) {
    StorageId id = parse_storage_id(pid, path, 5);
    auto it = storages.find(id.key);
    if (it == storages.end()) {
      std::string entry = prefix + "data/" + id.key;
      if (!zip.has(entry)) throw Error(path + ": missing storage entry " + entry);
      it = storages.emplace(id.key, storage_from(zip.get(entry), id, path)).first;
    } else if (it->second.scalar_type() != id.dtype || it->second.numel() != id.numel) {
      throw Error(path + ": storage " + id.key + " referenced with two different types or sizes");
    }
    return Value::tensor(it->second);
  };
  return checked(unpickle(zip.get(prefix + "data.pkl"), path + ":" + prefix + "data.pkl", load), path);
}

Value load_legacy(std::string_view data, const std::string& path) {
  size_t pos = sizeof(kLegacyMagic) - 1;
  auto next = [&](const PersistentLoad& load) {
    size_t used = 0;
    Value v = checked(unpickle(data.substr(pos), path, load, &used), path);
    pos += used;
    return v;
  };
  Value protocol = next(nullptr);
  if (!protocol.is(K::Int) || protocol.as_int() != 1001)
    throw Error(path + ": unsupported legacy protocol " + repr(protocol) + " (expected 1001)");
  Value sys_info = next(nullptr);
  if (const Value* le = sys_info.find("little_endian"); le && !le->as_bool("little_endian"))
    throw Error(path + ": big-endian PyTorch files are not supported");

  struct Root {
    StorageId id;
    torch::Tensor tensor;
    bool filled = false;
  };
  std::map<std::string, Root> roots;
  std::unordered_map<std::string, torch::Tensor> views;
  uint64_t declared = 0;  // bytes of all storages so far; together they must fit in the file
  PersistentLoad load = [&](const Value& pid) {
    StorageId id = parse_storage_id(pid, path, 6);
    auto it = roots.find(id.key);
    if (it == roots.end()) {
      // Allocated now, filled from the raw section after the pickles; bound the size first.
      const uint64_t elem = c10::elementSize(id.dtype);
      if (static_cast<uint64_t>(id.numel) > (data.size() - declared) / elem)
        throw Error(fmt::format("{}: storage {} declares {} elements, more than the file holds", path, id.key, id.numel));
      declared += static_cast<uint64_t>(id.numel) * elem;
      it = roots.emplace(id.key, Root{id, torch::empty({id.numel}, torch::TensorOptions().dtype(id.dtype))}).first;
    } else if (it->second.id.dtype != id.dtype || it->second.id.numel != id.numel) {
      throw Error(path + ": storage " + id.key + " referenced with two different types or sizes");
    }
    const Value& view = pid.items()[5];
    if (view.is_none()) return Value::tensor(it->second.tensor);
    const List& v = view.items("storage view");
    if (v.size() != 3) throw Error(path + ": storage view metadata is not (key, offset, size)");
    const std::string& view_key = v[0].as_string("view key");
    int64_t offset = v[1].as_int("view offset"), size = v[2].as_int("view size");
    if (offset < 0 || size < 0 || offset > id.numel || size > id.numel - offset)
      throw Error(fmt::format("{}: storage view {} [{}, +{}) exceeds storage {} of {} elements", path, view_key,
                              offset, size, id.key, id.numel));
    auto vit = views.find(view_key);
    if (vit == views.end()) vit = views.emplace(view_key, it->second.tensor.narrow(0, offset, size)).first;
    return Value::tensor(vit->second);
  };
  Value result = next(load);
  Value keys = next(nullptr);
  for (const Value& k : keys.items("legacy storage key list")) {
    const std::string& key = k.as_string("storage key");
    auto it = roots.find(key);
    if (it == roots.end()) throw Error(path + ": raw storage " + key + " is not referenced by the pickle");
    if (data.size() - pos < 8) throw Error(path + ": truncated before storage " + key);
    int64_t numel = 0;
    std::memcpy(&numel, data.data() + pos, 8);
    pos += 8;
    if (numel != it->second.id.numel)
      throw Error(fmt::format("{}: storage {} has {} elements on disk, {} in the pickle", path, key, numel,
                              it->second.id.numel));
    const size_t bytes = static_cast<size_t>(numel) * c10::elementSize(it->second.id.dtype);
    if (data.size() - pos < bytes) throw Error(path + ": truncated inside storage " + key);
    if (bytes) std::memcpy(it->second.tensor.data_ptr(), data.data() + pos, bytes);
    pos += bytes;
    if (it->second.filled) throw Error(path + ": storage " + key + " appears twice");
    it->second.filled = true;
  }
  for (const auto& [key, root] : roots)
    if (!root.filled) throw Error(path + ": storage " + key + " has no data (truncated file?)");
  return result;
}

}  // namespace

Value load_torch_file(const std::string& path) {
  MappedFile file(path);
  std::string_view data = file.data();
  Value v;
  if (data.size() >= 4 && data.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    v = load_zip(data, path);
  } else if (data.size() >= sizeof(kLegacyMagic) - 1 &&
             data.substr(0, sizeof(kLegacyMagic) - 1) == std::string_view(kLegacyMagic, sizeof(kLegacyMagic) - 1)) {
    v = load_legacy(data, path);
  } else {
    throw Error(path + ": not a PyTorch file (neither a zip archive nor the legacy magic number)");
  }
  return v;
}

void save_torch_file(const std::string& path, const Value& v) {
  // One file entry per (storage, dtype): views of one storage stay views of one entry.
  struct Saved {
    std::string key;
    torch::Tensor flat;  // the whole storage, viewed as its dtype
  };
  std::map<std::pair<const void*, torch::ScalarType>, Saved> saved;
  std::vector<const Saved*> order;
  StorageKey key = [&](const torch::Tensor& t) {
    auto id = std::make_pair(static_cast<const void*>(t.storage().unsafeGetStorageImpl()), t.scalar_type());
    auto it = saved.find(id);
    if (it == saved.end()) {
      int64_t numel = static_cast<int64_t>(t.storage().nbytes()) / static_cast<int64_t>(t.element_size());
      torch::Tensor flat = t.as_strided({numel}, {1}, 0);
      it = saved.emplace(id, Saved{std::to_string(saved.size()), flat}).first;
      order.push_back(&it->second);
    }
    return it->second.key;
  };
  std::string pkl = pickle(v, key);
  write_atomic(path, [&](std::ostream& out) {
    ZipWriter zip(out);
    zip.add("archive/data.pkl", pkl);
    for (const Saved* s : order) {
      const auto* p = static_cast<const char*>(s->flat.data_ptr());
      zip.add("archive/data/" + s->key, std::string_view(p, static_cast<size_t>(s->flat.nbytes())));
    }
    zip.add("archive/version", "3\n");
    zip.finish();
  });
}

}  // namespace w2v::ckpt
