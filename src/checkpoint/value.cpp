#include "checkpoint/value.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"

namespace w2v::ckpt {

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}
Value Value::real(double d) {
  Value v;
  v.kind_ = Kind::Float;
  v.d_ = d;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  v.s_ = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::bytes(std::string b) {
  Value v = string(std::move(b));
  v.kind_ = Kind::Bytes;
  return v;
}
Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::List;
  v.list_ = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::Tuple;
  return v;
}
Value Value::dict(bool ordered) {
  Value v;
  v.kind_ = Kind::Dict;
  v.dict_ = std::make_shared<Dict>();
  v.dict_->ordered = ordered;
  return v;
}
Value Value::tensor(torch::Tensor t) {
  Value v;
  v.kind_ = Kind::Tensor;
  v.tensor_ = std::move(t);
  return v;
}
Value Value::object(std::string module, std::string name) {
  return object(std::move(module), std::move(name), Value(), Value(), false);
}
Value Value::object(std::string module, std::string name, Value args, Value state, bool newobj) {
  Value v;
  v.kind_ = Kind::Object;
  v.object_ = std::make_shared<Object>();
  v.object_->module = std::move(module);
  v.object_->name = std::move(name);
  v.object_->args = std::make_shared<Value>(std::move(args));
  v.object_->state = std::make_shared<Value>(std::move(state));
  v.object_->newobj = newobj;
  return v;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return dict_->ordered ? "OrderedDict" : "dict";
    case Kind::Tensor: return "tensor";
    case Kind::Object: return object_->module + "." + object_->name;
  }
  return "?";
}

namespace {
Error wrong_type(const std::string& what, const char* expected, const Value& got) {
  return Error(fmt::format("{}: expected {}, got {} {}", what, expected, got.type_name(), repr(got, 60)));
}
}  // namespace

bool Value::as_bool(const std::string& what) const {
  if (kind_ == Kind::Bool) return b_;
  if (kind_ == Kind::Int && (i_ == 0 || i_ == 1)) return i_ == 1;
  throw wrong_type(what, "a bool", *this);
}
int64_t Value::as_int(const std::string& what) const {
  if (kind_ == Kind::Int) return i_;
  if (kind_ == Kind::Bool) return b_ ? 1 : 0;
  throw wrong_type(what, "an int", *this);
}
double Value::as_double(const std::string& what) const {
  if (kind_ == Kind::Float) return d_;
  if (kind_ == Kind::Int) return static_cast<double>(i_);
  throw wrong_type(what, "a number", *this);
}
const std::string& Value::as_string(const std::string& what) const {
  if (kind_ == Kind::String || kind_ == Kind::Bytes) return *s_;
  throw wrong_type(what, "a string", *this);
}
const torch::Tensor& Value::as_tensor(const std::string& what) const {
  if (kind_ == Kind::Tensor) return tensor_;
  throw wrong_type(what, "a tensor", *this);
}
List& Value::items(const std::string& what) const {
  if (kind_ == Kind::List || kind_ == Kind::Tuple) return *list_;
  throw wrong_type(what, "a list or tuple", *this);
}
Dict& Value::as_dict(const std::string& what) const {
  if (kind_ == Kind::Dict) return *dict_;
  throw wrong_type(what, "a dict", *this);
}
Object& Value::as_object(const std::string& what) const {
  if (kind_ == Kind::Object) return *object_;
  throw wrong_type(what, "an object", *this);
}

namespace {
const Dict* mapping_of(const Value& v) {
  if (v.is(Value::Kind::Dict)) return &v.as_dict();
  if (v.is(Value::Kind::Object) && v.as_object().state->is(Value::Kind::Dict))
    return &v.as_object().state->as_dict();
  return nullptr;
}
}  // namespace

const Value* Value::find(const std::string& key) const {
  const Dict* d = mapping_of(*this);
  if (!d) return nullptr;
  for (const auto& [k, v] : d->items)
    if (k.is(Kind::String) && *k.s_ == key) return &v;
  return nullptr;
}

bool Value::has(const std::string& key) const { return find(key) != nullptr; }

const Value& Value::get(const std::string& key) const {
  if (!mapping_of(*this)) throw key_error(key, "cannot look up a key in " + type_name());
  if (const Value* v = find(key)) return *v;
  throw key_error(key, "missing");
}

const Value* Value::find_path(const std::string& dotted) const {
  const Value* cur = this;
  size_t start = 0;
  while (cur) {
    size_t dot = dotted.find('.', start);
    cur = cur->find(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
  return nullptr;
}

const Value& Value::at(const std::string& dotted) const {
  const Value* cur = this;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::string prefix = dot == std::string::npos ? dotted : dotted.substr(0, dot);
    if (!mapping_of(*cur)) throw key_error(prefix, "cannot look up a key in " + cur->type_name());
    cur = cur->find(key);
    if (!cur) throw key_error(prefix, "missing");
    if (dot == std::string::npos) return *cur;
    start = dot + 1;
  }
}

void Value::set(const std::string& key, Value v) {
  Dict* d = const_cast<Dict*>(mapping_of(*this));
  if (!d) throw key_error(key, "cannot set a key in " + type_name());
  for (auto& [k, old] : d->items)
    if (k.is(Kind::String) && *k.s_ == key) {
      old = std::move(v);
      return;
    }
  d->items.emplace_back(string(key), std::move(v));
}

bool equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::None: return true;
    case K::Bool: return a.as_bool() == b.as_bool();
    case K::Int: return a.as_int() == b.as_int();
    case K::Float: {
      double x = a.as_double(), y = b.as_double();
      return x == y || (std::isnan(x) && std::isnan(y));
    }
    case K::String:
    case K::Bytes: return a.as_string() == b.as_string();
    case K::List:
    case K::Tuple: {
      const List &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equal(x[i], y[i])) return false;
      return true;
    }
    case K::Dict: {
      const Dict &x = a.as_dict(), &y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      // No attributes and an empty attribute dict are the same Python object state.
      auto no_attrs = [](const Dict& d) { return !d.attrs || (d.attrs->is(K::Dict) && d.attrs->as_dict().items.empty()); };
      if (no_attrs(x) != no_attrs(y) || (!no_attrs(x) && !equal(*x.attrs, *y.attrs))) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equal(x.items[i].first, y.items[i].first) || !equal(x.items[i].second, y.items[i].second))
          return false;
      return true;
    }
    case K::Tensor: {
      const torch::Tensor &x = a.as_tensor(), &y = b.as_tensor();
      if (x.scalar_type() != y.scalar_type() || x.sizes() != y.sizes()) return false;
      if (x.is_floating_point()) return torch::equal(x.isnan(), y.isnan()) && torch::equal(x.nan_to_num(0), y.nan_to_num(0));
      return torch::equal(x, y);
    }
    case K::Object: {
      const Object &x = a.as_object(), &y = b.as_object();
      return x.module == y.module && x.name == y.name && x.newobj == y.newobj && equal(*x.args, *y.args) &&
             equal(*x.state, *y.state);
    }
  }
  return false;
}

namespace {
void render(const Value& v, std::string& out, size_t max_chars) {
  using K = Value::Kind;
  if (out.size() > max_chars) return;
  switch (v.kind()) {
    case K::None: out += "None"; break;
    case K::Bool: out += v.as_bool() ? "True" : "False"; break;
    case K::Int: out += std::to_string(v.as_int()); break;
    case K::Float: out += fmt::format("{}", v.as_double()); break;
    case K::String: out += "'" + v.as_string() + "'"; break;
    case K::Bytes: out += fmt::format("b<{} bytes>", v.as_string().size()); break;
    case K::List:
    case K::Tuple: {
      out += v.is(K::List) ? "[" : "(";
      bool first = true;
      for (const Value& x : v.items()) {
        if (!first) out += ", ";
        first = false;
        render(x, out, max_chars);
        if (out.size() > max_chars) return;
      }
      out += v.is(K::List) ? "]" : ")";
      break;
    }
    case K::Dict: {
      out += "{";
      bool first = true;
      for (const auto& [k, x] : v.as_dict().items) {
        if (!first) out += ", ";
        first = false;
        render(k, out, max_chars);
        out += ": ";
        render(x, out, max_chars);
        if (out.size() > max_chars) return;
      }
      out += "}";
      break;
    }
    case K::Tensor: {
      const auto& t = v.as_tensor();
      out += fmt::format("tensor({}[{}])", c10::toString(t.scalar_type()), fmt::join(t.sizes(), ", "));
      break;
    }
    case K::Object: {
      const Object& o = v.as_object();
      out += o.module + "." + o.name;
      if (!o.args->is_none()) {
        out += "(";
        render(*o.args, out, max_chars);
        out += ")";
      }
      if (!o.state->is_none()) {
        out += " state=";
        render(*o.state, out, max_chars);
      }
      break;
    }
  }
}

// The containers directly below v (list/tuple items, dict keys and values, object args/state).
template <typename F>
void for_each_child(const Value& v, F&& f) {
  using K = Value::Kind;
  if (v.is(K::List) || v.is(K::Tuple)) {
    for (const Value& x : v.items()) f(x);
  } else if (v.is(K::Dict)) {
    for (const auto& [k, x] : v.as_dict().items) {
      f(k);
      f(x);
    }
    if (v.as_dict().attrs) f(*v.as_dict().attrs);
  } else if (v.is(K::Object)) {
    f(*v.as_object().args);
    f(*v.as_object().state);
  }
}

const void* identity(const Value& v) {
  using K = Value::Kind;
  if (v.is(K::List) || v.is(K::Tuple)) return &v.items();
  if (v.is(K::Dict)) return &v.as_dict();
  if (v.is(K::Object)) return &v.as_object();
  return nullptr;
}
}  // namespace

std::string repr(const Value& v, size_t max_chars) {
  std::string out;
  render(v, out, max_chars);
  if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
  return out;
}

void release_unreachable(const std::vector<Value>& from, const Value& keep) {
  // Every container of `keep`'s tree first, then those of `from` outside it, each held in
  // `drop` while the containers are emptied: no destructor ever runs more than one level deep.
  std::unordered_set<const void*> seen;
  // Every container reachable from `todo` and not seen yet, each once.
  auto unseen_containers = [&seen](std::vector<Value> todo) {
    std::vector<Value> found;
    while (!todo.empty()) {
      Value v = std::move(todo.back());
      todo.pop_back();
      const void* id = identity(v);
      if (!id || !seen.insert(id).second) continue;
      for_each_child(v, [&](const Value& c) { todo.push_back(c); });
      found.push_back(std::move(v));
    }
    return found;
  };
  unseen_containers({keep});
  std::vector<Value> drop = unseen_containers(from);
  for (Value& v : drop) {
    if (v.is(Value::Kind::List) || v.is(Value::Kind::Tuple)) {
      v.items().clear();
    } else if (v.is(Value::Kind::Dict)) {
      v.as_dict().items.clear();
      v.as_dict().attrs.reset();
    } else if (v.is(Value::Kind::Object)) {
      *v.as_object().args = Value();
      *v.as_object().state = Value();
    }
  }
}

void release_tree(const std::vector<Value>& roots) { release_unreachable(roots, Value()); }

void check_tree(const Value& root, const std::string& name, size_t max_depth) {
  // Iterative post-order DFS. A container still on the stack seen again is a cycle; finished
  // containers remember their height so that shared sub-trees count at every depth they occur.
  std::unordered_map<const void*, size_t> height;  // 0 = on the stack
  struct Frame {
    Value v;
    std::vector<Value> children;
    size_t next = 0, height = 1;
  };
  std::vector<Frame> stack;
  auto push = [&](const Value& v) {
    Frame f{v, {}, 0, 1};
    for_each_child(v, [&](const Value& c) {
      if (identity(c)) f.children.push_back(c);
    });
    height[identity(v)] = 0;
    stack.push_back(std::move(f));
  };
  if (!identity(root)) return;
  push(root);
  std::string problem;
  while (!stack.empty() && problem.empty()) {
    Frame& top = stack.back();
    if (top.next == top.children.size()) {
      size_t h = top.height;
      height[identity(top.v)] = h;
      stack.pop_back();
      if (!stack.empty()) stack.back().height = std::max(stack.back().height, h + 1);
      continue;
    }
    const Value child = top.children[top.next++];
    auto it = height.find(identity(child));
    if (it != height.end()) {
      if (it->second == 0) problem = "recursive structure (a container contains itself)";
      else if (stack.size() + it->second > max_depth)
        problem = fmt::format("containers nested deeper than {} levels", max_depth);
      else top.height = std::max(top.height, it->second + 1);
      continue;
    }
    if (stack.size() >= max_depth) {
      problem = fmt::format("containers nested deeper than {} levels", max_depth);
      continue;
    }
    push(child);
  }
  if (!problem.empty()) {
    stack.clear();
    release_tree({root});
    throw Error(name + ": " + problem);
  }
}

}  // namespace w2v::ckpt
