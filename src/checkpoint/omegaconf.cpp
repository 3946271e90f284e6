#include "checkpoint/omegaconf.h"

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace w2v::ckpt {

namespace {

using K = Value::Kind;

class Converter {
 public:
  // Returns the converted value; `changed` tells whether it differs from v.
  Value convert(const Value& v, bool& changed, size_t depth) {
    changed = false;
    const void* id = identity(v);
    if (!id || depth > kMaxDepth || active_.count(id)) return v;
    if (auto it = done_.find(id); it != done_.end()) {
      changed = it->second.second;
      return it->second.first;
    }
    active_.insert(id);
    Value out = v.is(K::Object) ? object(v, changed, depth) : container(v, changed, depth);
    active_.erase(id);
    done_.emplace(id, std::make_pair(out, changed));
    return out;
  }

 private:
  static constexpr size_t kMaxDepth = 1000;

  static const void* identity(const Value& v) {
    if (v.is(K::List) || v.is(K::Tuple)) return &v.items();
    if (v.is(K::Dict)) return &v.as_dict();
    if (v.is(K::Object)) return &v.as_object();
    return nullptr;
  }

  // A copy is made only from the first child that changes (state dicts stay shared).
  Value container(const Value& v, bool& changed, size_t depth) {
    if (v.is(K::Dict)) {
      const auto& items = v.as_dict().items;
      Value out;
      for (size_t i = 0; i < items.size(); ++i) {
        bool c = false;
        Value y = convert(items[i].second, c, depth + 1);
        if (c && !changed) {
          changed = true;
          out = Value::dict(v.as_dict().ordered);
          out.as_dict().attrs = v.as_dict().attrs;
          out.as_dict().items.assign(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i));
        }
        if (changed) out.as_dict().items.emplace_back(items[i].first, std::move(y));
      }
      return changed ? out : v;
    }
    const List& items = v.items();
    List out;
    for (size_t i = 0; i < items.size(); ++i) {
      bool c = false;
      Value y = convert(items[i], c, depth + 1);
      if (c && !changed) {
        changed = true;
        out.assign(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i));
      }
      if (changed) out.push_back(std::move(y));
    }
    if (!changed) return v;
    return v.is(K::List) ? Value::list(std::move(out)) : Value::tuple(std::move(out));
  }

  Value object(const Value& v, bool& changed, size_t depth) {
    const Object& o = v.as_object();
    const bool config = o.module == "omegaconf.dictconfig" || o.module == "omegaconf.listconfig";
    if (!config && o.module != "omegaconf.nodes") {
      // Another class (argparse.Namespace, ...): its state may hold configs.
      bool c = false;
      Value state = convert(*o.state, c, depth + 1);
      if (!c) return v;
      changed = true;
      return Value::object(o.module, o.name, *o.args, std::move(state), o.newobj);
    }
    changed = true;
    replaced_.push_back(v);
    const Value* inner = o.state->find(config ? "_content" : "_val");
    if (!inner) return Value();  // a node without a value: None, as omegaconf reads it
    bool c = false;
    Value out = convert(*inner, c, depth + 1);
    // An enum value (EnumNode) is pickled as a call cls(value): keep the value.
    if (!config && out.is(K::Object) && out.as_object().args->is(K::Tuple) &&
        out.as_object().args->items().size() == 1 && out.as_object().state->is_none())
      return out.as_object().args->items()[0];
    return out;
  }

  // The `_parent` links make omegaconf objects cycles that shared ownership never frees, and
  // a `_parent` may lead to objects the conversion never visits (a hostile file's parent
  // outside the tree): everything the replaced objects reach that `out` does not hold is emptied.
 public:
  void release_replaced(const Value& out) {
    release_unreachable(replaced_, out);
    replaced_.clear();
  }

 private:
  std::vector<Value> replaced_;
  std::unordered_set<const void*> active_;
  std::unordered_map<const void*, std::pair<Value, bool>> done_;
};

}  // namespace

Value plain_omegaconf(const Value& root) {
  bool changed = false;
  Converter converter;
  Value out = converter.convert(root, changed, 0);
  converter.release_replaced(out);
  return out;
}

}  // namespace w2v::ckpt
