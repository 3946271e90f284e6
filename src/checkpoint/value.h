// The object tree of a pickled checkpoint, independent of Python: None, bool, int64, double,
// str, bytes, list, tuple, dict (ordered, any keys), tensor, and Object for every other class
// (argparse.Namespace, omegaconf leftovers, unknown globals) kept as module/name/args/state.
// Containers are shared like Python references (copying a Value aliases the container), which
// is what the unpickler's memo needs. Shared ownership never frees a cycle: whoever builds
// values from input (the unpickler, plain_omegaconf's callers) empties what it drops with
// release_unreachable, and the loaders reject cyclic results (check_tree).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace w2v::ckpt {

class Value;
using List = std::vector<Value>;

// Insertion-ordered mapping; `ordered` records that it was a collections.OrderedDict so that a
// re-saved file keeps the class Python code expects for state dicts. `attrs` holds instance
// attributes pickle's BUILD set on an OrderedDict (module.state_dict()'s `_metadata` with the
// module versions): a dict Value, or null when there are none; kept so a re-save keeps them.
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  bool ordered = false;
  std::shared_ptr<Value> attrs;
};

// An instance of a class the tree has no kind for. `args` are the constructor (REDUCE/NEWOBJ)
// arguments, `state` what BUILD set (for argparse.Namespace: the attribute dict). A bare
// GLOBAL reference (a class or function) is an Object with args and state None.
struct Object {
  std::string module, name;
  std::shared_ptr<Value> args, state;
  bool newobj = false;  // built by NEWOBJ (cls.__new__) rather than REDUCE (a call)
};

class Value {
 public:
  enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Dict, Tensor, Object };

  Value() = default;  // None
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value real(double d);
  static Value string(std::string s);
  static Value bytes(std::string b);
  static Value list(List items = {});
  static Value tuple(List items = {});
  static Value dict(bool ordered = false);
  static Value tensor(torch::Tensor t);
  static Value object(std::string module, std::string name);  // a bare global reference
  static Value object(std::string module, std::string name, Value args, Value state, bool newobj);

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is(Kind k) const { return kind_ == k; }
  // "dict", "list", "argparse.Namespace", ... for error messages.
  std::string type_name() const;

  // Typed access; `what` names the value in the error (a key path such as "cfg.model").
  bool as_bool(const std::string& what = "value") const;
  int64_t as_int(const std::string& what = "value") const;
  double as_double(const std::string& what = "value") const;  // accepts int too
  const std::string& as_string(const std::string& what = "value") const;  // str or bytes
  const torch::Tensor& as_tensor(const std::string& what = "value") const;
  List& items(const std::string& what = "value") const;  // list or tuple
  Dict& as_dict(const std::string& what = "value") const;
  Object& as_object(const std::string& what = "value") const;

  // Attribute-style access by string key: works on dicts and on Objects whose state is a dict
  // (argparse.Namespace), so old `args` and new `cfg` trees read the same way.
  bool has(const std::string& key) const;
  const Value* find(const std::string& key) const;  // nullptr when absent or not a mapping
  const Value& get(const std::string& key) const;   // w2v::Error naming the key when absent
  // Dotted path ("cfg.model._name"); errors name the full path.
  const Value& at(const std::string& dotted) const;
  const Value* find_path(const std::string& dotted) const;
  // Sets or replaces a string key of a dict (or a Namespace attribute). Copies of a Value share
  // its container, so Value(tree.get("model")).set(...) edits the tree in place.
  void set(const std::string& key, Value v);

 private:
  Kind kind_ = Kind::None;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<std::string> s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Object> object_;
  torch::Tensor tensor_;
};

// Structural equality (tensors: same dtype, shape and values; NaN == NaN), for round-trip tests
// and for comparing configs.
bool equal(const Value& a, const Value& b);

// Python-like one-line rendering, tensors as "tensor(float32[2, 3])"; long output is cut.
std::string repr(const Value& v, size_t max_chars = 200);

// Walks the tree without recursion and throws w2v::Error "<name>: ..." if it contains a cycle
// or nests deeper than max_depth; on failure it first empties every container so that the
// tree frees without deep recursion.
void check_tree(const Value& root, const std::string& name, size_t max_depth = 1000);

// Empties every container reachable from the given values without recursion (used to free
// hostile trees safely).
void release_tree(const std::vector<Value>& roots);

// Empties every container reachable from `from` but not from `keep` (each one level deep, while
// all are held), so that what a caller drops frees even where it contains cycles (shared
// ownership alone never frees a cycle) or nests deep; `keep`'s tree is left untouched.
void release_unreachable(const std::vector<Value>& from, const Value& keep);

}  // namespace w2v::ckpt
