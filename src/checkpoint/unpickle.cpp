// The unpickler half of pickle.h: a stack machine over the opcodes of protocols 2-5 that builds
// Values and interprets only an allow-list of globals (see reduce()); nothing is executed.
#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <unordered_map>

#include "checkpoint/pickle.h"
#include "util/error.h"

namespace w2v::ckpt {

namespace {

using K = Value::Kind;

class Unpickler {
 public:
  Unpickler(std::string_view data, const std::string& name, const PersistentLoad& load)
      : data_(data), name_(name), load_(load) {}

  Value run(size_t* consumed) {
    Value result;
    try {
      result = loop();
    } catch (...) {
      // Whatever was built, wherever the error left it (stack, memo, a value popped into a
      // local of the failing opcode), may be deep or cyclic: free it all without recursion.
      std::vector<Value> all = std::move(created_);
      all.insert(all.end(), stack_.begin(), stack_.end());
      for (auto& [k, v] : memo_) all.push_back(v);
      for (auto& [d, ki] : key_index_) all.push_back(ki.owner);
      stack_.clear();
      memo_.clear();
      key_index_.clear();
      release_tree(all);
      throw;
    }
    if (consumed) *consumed = pos_;
    memo_.clear();
    key_index_.clear();
    // A pickle may build cyclic or deep values beside its result (DUP + APPEND, then POP):
    // nothing references them any more, and shared ownership alone would never free a cycle.
    release_unreachable(created_, result);
    created_.clear();
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: pickle: {} at byte {}", name_, what, op_pos_));
  }

  const char* take(size_t n) {
    if (n > data_.size() - pos_) fail(fmt::format("truncated (needs {} more bytes, {} left)", n, data_.size() - pos_));
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(take(n));
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string line() {
    size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) fail("unterminated text argument");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string bytes(uint64_t n) {
    if (n > data_.size() - pos_) fail(fmt::format("string of {} bytes exceeds the input", n));
    return std::string(take(static_cast<size_t>(n)), static_cast<size_t>(n));
  }

  // Every value the machine builds enters through here, so that run() can free all of it.
  void push(Value v) {
    if (v.is(K::List) || v.is(K::Tuple) || v.is(K::Dict) || v.is(K::Object)) created_.push_back(v);
    stack_.push_back(std::move(v));
  }

  Value pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  List pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    List items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
               std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  List pop_n(size_t n) {
    if (stack_.size() < floor() + n) fail("stack underflow");
    List items(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(n)), std::make_move_iterator(stack_.end()));
    stack_.resize(stack_.size() - n);
    return items;
  }

  const Value& memo_get(uint64_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) fail(fmt::format("memo key {} not defined", i));
    return it->second;
  }

  static std::string normalize_module(const std::string& m) {
    // Python 3 writes protocol-2 pickles with Python 2 module names.
    if (m == "__builtin__") return "builtins";
    if (m == "copy_reg") return "copyreg";
    return m;
  }

  Value signed_long(uint64_t n) {
    if (n > 8) {
      // Python ints wider than 64 bits never occur in checkpoints we can represent.
      fail(fmt::format("integer of {} bytes does not fit in 64 bits", n));
    }
    if (n == 0) return Value::integer(0);
    uint64_t v = le(static_cast<size_t>(n));
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return Value::integer(static_cast<int64_t>(v));
  }

  void setitems(Value& target, List items) {
    if (items.size() % 2) fail("SETITEMS with an odd number of items");
    Value* dict = &target;
    if (target.is(K::Object)) {
      // A dict subclass we do not know: its items go to the object's state.
      dict = target.as_object().state.get();
      if (dict->is_none()) *dict = Value::dict();
      if (!dict->is(K::Dict)) fail("SETITEMS on an object whose state is not a dict");
    } else if (!target.is(K::Dict)) {
      fail("SETITEMS on " + target.type_name());
    }
    Dict* d = &dict->as_dict();
    // A repeated key replaces the earlier value, as in Python; a hash index per dict keeps
    // that linear in the input (a scan per key would let a small file take hours). The index
    // holds the dict so that its address is never reused by another dict meanwhile.
    KeyIndex& ki = key_index_[d];
    if (ki.owner.is_none()) ki.owner = *dict;
    auto& index = ki.positions;
    for (size_t i = 0; i < items.size(); i += 2) {
      std::string key;
      if (items[i].is(K::String)) key = "s" + items[i].as_string();
      else if (items[i].is(K::Int)) key = "i" + std::to_string(items[i].as_int());
      if (!key.empty()) {
        auto [it, fresh] = index.emplace(std::move(key), d->items.size());
        if (!fresh) {
          d->items[it->second].second = std::move(items[i + 1]);
          continue;
        }
      }
      d->items.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    }
  }

  void append(Value& target, List items) {
    if (target.is(K::List)) {
      for (auto& x : items) target.items().push_back(std::move(x));
    } else if (target.is(K::Object) && target.as_object().name == "set") {
      for (auto& x : items) target.as_object().args->items()[0].items().push_back(std::move(x));
    } else {
      fail("APPEND on " + target.type_name());
    }
  }

  static bool is_global(const Value& v, const char* module, const char* name) {
    return v.is(K::Object) && v.as_object().module == module && v.as_object().name == name;
  }

  int64_t int_arg(const Value& v, const char* what) {
    if (!v.is(K::Int)) fail(fmt::format("{} is {}, expected an int", what, v.type_name()));
    return v.as_int();
  }

  torch::Tensor rebuild_tensor(const List& a) {
    if (a.size() < 4) fail("_rebuild_tensor with fewer than 4 arguments");
    if (!a[0].is(K::Tensor)) fail("_rebuild_tensor: first argument is " + a[0].type_name() + ", expected a storage");
    const torch::Tensor& storage = a[0].as_tensor();
    int64_t offset = int_arg(a[1], "tensor storage offset");
    if (!a[2].is(K::Tuple) || !a[3].is(K::Tuple) || a[2].items().size() != a[3].items().size())
      fail("_rebuild_tensor: size and stride must be tuples of equal length");
    std::vector<int64_t> sizes, strides;
    int64_t last = offset;  // highest element index touched
    bool empty = false;
    for (size_t i = 0; i < a[2].items().size(); ++i) {
      int64_t s = int_arg(a[2].items()[i], "tensor size"), st = int_arg(a[3].items()[i], "tensor stride");
      if (s < 0 || st < 0) fail("negative tensor size or stride");
      if (s == 0) empty = true;
      if (s > 0 && st > 0 && (s - 1) > (std::numeric_limits<int64_t>::max() - last) / st)
        fail("tensor extent overflows");
      if (s > 0) last += (s - 1) * st;
      sizes.push_back(s);
      strides.push_back(st);
    }
    if (offset < 0 || (!empty && last >= storage.numel()))
      fail(fmt::format("tensor view (offset {}, sizes [{}], strides [{}]) exceeds its storage of {} elements", offset,
                       fmt::join(sizes, ", "), fmt::join(strides, ", "), storage.numel()));
    return storage.as_strided(sizes, strides, storage.storage_offset() + offset);
  }

  // numpy.core.multiarray.scalar(dtype, raw bytes) -> int/float/bool.
  Value numpy_scalar(const List& a) {
    if (a.size() != 2 || !is_global(a[0], "numpy", "dtype") || !a[1].is(K::Bytes)) fail("unexpected numpy scalar");
    const Object& dt = a[0].as_object();
    const std::string& type = dt.args->items().empty() ? std::string() : dt.args->items()[0].as_string("numpy dtype");
    const std::string& raw = a[1].as_string();
    bool big = dt.state->is(K::Tuple) && dt.state->items().size() > 1 && dt.state->items()[1].is(K::String) &&
               dt.state->items()[1].as_string() == ">";
    if (type.size() < 2 || std::to_string(raw.size()) != type.substr(1)) fail("numpy scalar of dtype '" + type + "'");
    unsigned char buf[8] = {};
    for (size_t i = 0; i < raw.size(); ++i) buf[i] = static_cast<unsigned char>(raw[big ? raw.size() - 1 - i : i]);
    uint64_t u = 0;
    for (size_t i = 0; i < raw.size(); ++i) u |= static_cast<uint64_t>(buf[i]) << (8 * i);
    switch (type[0]) {
      case 'b': return Value::boolean(u != 0);
      case 'u':
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("numpy uint64 scalar too large");
        return Value::integer(static_cast<int64_t>(u));
      case 'i': {
        size_t n = raw.size();
        if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);
        return Value::integer(static_cast<int64_t>(u));
      }
      case 'f':
        if (raw.size() == 8) {
          double d;
          std::memcpy(&d, &u, 8);
          return Value::real(d);
        }
        if (raw.size() == 4) {
          float f;
          uint32_t u32 = static_cast<uint32_t>(u);
          std::memcpy(&f, &u32, 4);
          return Value::real(f);
        }
        if (raw.size() == 2) return Value::real(static_cast<float>(c10::Half(static_cast<uint16_t>(u), c10::Half::from_bits())));
        break;
    }
    fail("unsupported numpy scalar dtype '" + type + "'");
  }

  Value reduce(const Value& callable, Value args_value) {
    if (!callable.is(K::Object)) fail("REDUCE on " + callable.type_name());
    if (!args_value.is(K::Tuple)) fail("REDUCE arguments are " + args_value.type_name() + ", expected a tuple");
    const Object& f = callable.as_object();
    const List& a = args_value.items();
    const std::string& m = f.module;
    const std::string& n = f.name;
    if (m == "torch._utils") {
      if (n == "_rebuild_tensor_v2" || n == "_rebuild_tensor") return Value::tensor(rebuild_tensor(a));
      if (n == "_rebuild_parameter" || n == "_rebuild_parameter_with_state") {
        if (a.empty() || !a[0].is(K::Tensor)) fail(n + " without a tensor");
        return a[0];
      }
      if (n == "_rebuild_from_type_v2") {
        if (a.size() < 3) fail("_rebuild_from_type_v2 with fewer than 3 arguments");
        return reduce(a[0], a[2]);
      }
    }
    if (m == "collections" && n == "OrderedDict") {
      Value d = Value::dict(true);
      if (!a.empty()) {
        List flat;
        for (const Value& pair : a[0].items("OrderedDict argument")) {
          if (pair.items("OrderedDict item").size() != 2) fail("OrderedDict item is not a pair");
          flat.push_back(pair.items()[0]);
          flat.push_back(pair.items()[1]);
        }
        setitems(d, std::move(flat));
      }
      return d;
    }
    if (m == "_codecs" && n == "encode") {
      // Python 3 pickles bytes at protocol 2 as encode(latin-1 text, 'latin1').
      if (a.size() != 2 || !a[0].is(K::String)) fail("unexpected _codecs.encode arguments");
      return Value::bytes(latin1(a[0].as_string()));
    }
    if ((m == "numpy.core.multiarray" || m == "numpy._core.multiarray") && n == "scalar") return numpy_scalar(a);
    if (m == "torch" && n == "Size" && a.size() == 1 && a[0].is(K::Tuple)) return a[0];
    if (m == "copyreg" && n == "_reconstructor" && !a.empty() && a[0].is(K::Object))
      return Value::object(a[0].as_object().module, a[0].as_object().name, Value::tuple(), {}, true);
    return Value::object(m, n, std::move(args_value), {}, false);
  }

  // UTF-8 text whose code points are all < 256 -> those bytes.
  std::string latin1(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size() && c <= 0xC3) {
        out += static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
      } else {
        fail("bytes encoded with a code point above 255");
      }
    }
    return out;
  }

  // BUILD: what pickle's load_build does for classes without __setstate__. Objects keep their
  // state (a Namespace's attribute dict); on an OrderedDict (module.state_dict() carries
  // `_metadata`) the state is a dict of attributes, or a (dict|None, slots dict|None) pair.
  void build(Value& target, Value state) {
    if (target.is(K::Object)) {
      Value& cur = *target.as_object().state;
      if (cur.is(K::Dict) && state.is(K::Dict)) merge(cur, state);
      else cur = std::move(state);
    } else if (target.is(K::Dict)) {
      List parts;
      if (state.is(K::Tuple) && state.items().size() == 2) parts = state.items();
      else parts.push_back(state);
      for (const Value& part : parts) {
        if (part.is_none()) continue;
        if (!part.is(K::Dict)) fail("BUILD on a dict with state of type " + part.type_name() + ", expected a dict");
        if (part.as_dict().items.empty()) continue;
        Dict& d = target.as_dict();
        if (!d.ordered) fail("BUILD with attributes on a plain dict (only dict subclasses have attributes)");
        if (!d.attrs) d.attrs = std::make_shared<Value>(Value::dict());
        merge(*d.attrs, part);
      }
    } else if (target.is(K::Tensor)) {
      if (!state.is_none() && !(state.is(K::Dict) && state.as_dict().items.empty()) &&
          !(state.is(K::Tuple) && state.items().empty()))
        fail("BUILD with state on a tensor (tensor subclass attributes are not supported)");
    } else {
      fail("BUILD on " + target.type_name());
    }
  }

  // Sets every item of the dict `from` in the dict `into` (a later key replaces an earlier one).
  void merge(Value& into, const Value& from) {
    List flat;
    for (const auto& [k, v] : from.as_dict().items) {
      flat.push_back(k);
      flat.push_back(v);
    }
    setitems(into, std::move(flat));
  }

  Value loop() {
    while (true) {
      op_pos_ = pos_;
      unsigned char op = static_cast<unsigned char>(*take(1));
      switch (op) {
        case 0x80: {  // PROTO
          unsigned proto = static_cast<unsigned char>(*take(1));
          if (proto > 5) fail(fmt::format("unsupported pickle protocol {}", proto));
          break;
        }
        case 0x95: take(8); break;  // FRAME: only a read-ahead hint
        case '.': {                 // STOP
          Value result = pop();
          if (!stack_.empty() || !marks_.empty()) fail("values left on the stack at STOP");
          return result;
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': stack_.push_back(top()); break;  // an existing value: built (and tracked) before
        case 'N': push(Value()); break;
        case 0x88: push(Value::boolean(true)); break;
        case 0x89: push(Value::boolean(false)); break;
        case 'J': push(Value::integer(static_cast<int32_t>(le(4)))); break;
        case 'K': push(Value::integer(static_cast<int64_t>(le(1)))); break;
        case 'M': push(Value::integer(static_cast<int64_t>(le(2)))); break;
        case 0x8a: push(signed_long(le(1))); break;
        case 0x8b: push(signed_long(le(4))); break;
        case 'G': {
          uint64_t bits = 0;
          const unsigned char* p = reinterpret_cast<const unsigned char*>(take(8));
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
          double d;
          std::memcpy(&d, &bits, 8);
          push(Value::real(d));
          break;
        }
        case 'X': push(Value::string(bytes(le(4)))); break;
        case 0x8c: push(Value::string(bytes(le(1)))); break;
        case 0x8d: push(Value::string(bytes(le(8)))); break;
        case 'U': push(Value::string(bytes(le(1)))); break;  // py2 str: text
        case 'T': push(Value::string(bytes(le(4)))); break;
        case 'C': push(Value::bytes(bytes(le(1)))); break;
        case 'B': push(Value::bytes(bytes(le(4)))); break;
        case 0x8e: push(Value::bytes(bytes(le(8)))); break;
        case 0x96: push(Value::bytes(bytes(le(8)))); break;  // BYTEARRAY8
        case ']': push(Value::list()); break;
        case '}': push(Value::dict()); break;
        case ')': push(Value::tuple()); break;
        case 0x8f:  // EMPTY_SET
          push(Value::object("builtins", "set", Value::tuple({Value::list()}), {}, false));
          break;
        case 't': push(Value::tuple(pop_mark())); break;
        case 0x85: push(Value::tuple(pop_n(1))); break;
        case 0x86: push(Value::tuple(pop_n(2))); break;
        case 0x87: push(Value::tuple(pop_n(3))); break;
        case 0x91:  // FROZENSET
          push(Value::object("builtins", "frozenset", Value::tuple({Value::list(pop_mark())}), {}, false));
          break;
        case 'a': {
          Value x = pop();
          append(top(), {std::move(x)});
          break;
        }
        case 'e':
        case 0x90: {  // APPENDS, ADDITEMS
          List items = pop_mark();
          append(top(), std::move(items));
          break;
        }
        case 's': {
          List kv = pop_n(2);
          setitems(top(), std::move(kv));
          break;
        }
        case 'u': {
          List items = pop_mark();
          setitems(top(), std::move(items));
          break;
        }
        case 'c': {
          std::string module = normalize_module(line());
          std::string name = line();
          push(Value::object(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value name = pop(), module = pop();
          if (!name.is(K::String) || !module.is(K::String)) fail("STACK_GLOBAL needs two strings");
          push(Value::object(normalize_module(module.as_string()), name.as_string()));
          break;
        }
        case 'R': {
          Value args = pop();
          Value f = pop();
          push(reduce(f, std::move(args)));
          break;
        }
        case 0x81:     // NEWOBJ
        case 0x92: {   // NEWOBJ_EX
          Value kwargs = op == 0x92 ? pop() : Value();
          Value args = pop();
          Value cls = pop();
          if (!cls.is(K::Object)) fail("NEWOBJ on " + cls.type_name());
          if (cls.as_object().module == "collections" && cls.as_object().name == "OrderedDict") {
            push(Value::dict(true));
          } else {
            push(Value::object(cls.as_object().module, cls.as_object().name, std::move(args), {}, true));
          }
          break;
        }
        case 'b': {
          Value state = pop();
          build(top(), std::move(state));
          break;
        }
        case 'Q': {
          Value pid = pop();
          if (!load_) fail("persistent id without a persistent loader");
          stack_.push_back(load_(pid));  // the loader's value (a tensor): the loader owns it
          break;
        }
        case 'q': memo_[le(1)] = top(); break;
        case 'r': memo_[le(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;
        case 'h': stack_.push_back(memo_get(le(1))); break;
        case 'j': stack_.push_back(memo_get(le(4))); break;
        case 'p': memo_[parse_uint(line())] = top(); break;
        case 'g': stack_.push_back(memo_get(parse_uint(line()))); break;
        default: fail(fmt::format("unsupported opcode 0x{:02x}", op));
      }
    }
  }

  uint64_t parse_uint(const std::string& s) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
      fail("bad memo index '" + s + "'");
    return std::stoull(s);
  }

  std::string_view data_;
  const std::string& name_;
  const PersistentLoad& load_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  struct KeyIndex {
    Value owner;
    std::unordered_map<std::string, size_t> positions;  // "s"+str or "i"+int -> item index
  };
  std::unordered_map<const Dict*, KeyIndex> key_index_;
  std::vector<Value> created_;  // every container pushed, until run() returns
};

}  // namespace

Value unpickle(std::string_view data, const std::string& name, const PersistentLoad& persistent_load,
               size_t* consumed) {
  return Unpickler(data, name, persistent_load).run(consumed);
}

}  // namespace w2v::ckpt
