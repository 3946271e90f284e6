// The pickler half of pickle.h (protocol 2, what torch.save writes) and the storage class
// names; the unpickler is unpickle.cpp.
#include "checkpoint/pickle.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "util/error.h"

namespace w2v::ckpt {

namespace {

using K = Value::Kind;

const std::pair<const char*, torch::ScalarType> kStorageClasses[] = {
    {"FloatStorage", torch::kFloat32},  {"HalfStorage", torch::kFloat16},
    {"BFloat16Storage", torch::kBFloat16}, {"DoubleStorage", torch::kFloat64},
    {"LongStorage", torch::kInt64},     {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16},    {"CharStorage", torch::kInt8},
    {"ByteStorage", torch::kUInt8},     {"BoolStorage", torch::kBool},
};

class Pickler {
 public:
  explicit Pickler(const StorageKey& key) : key_(key) {}

  std::string run(const Value& v) {
    out_ += "\x80\x02";
    write(v);
    out_ += '.';
    return std::move(out_);
  }

 private:
  void u32(uint32_t x) {
    for (int i = 0; i < 4; ++i) out_ += static_cast<char>((x >> (8 * i)) & 0xFF);
  }
  void text(const std::string& s) {
    out_ += 'X';
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void global(const std::string& module, const std::string& name) { out_ += "c" + module + "\n" + name + "\n"; }
  void integer(int64_t i) {
    if (i >= 0 && i < 256) {
      out_ += 'K';
      out_ += static_cast<char>(i);
    } else if (i >= 0 && i < 65536) {
      out_ += 'M';
      out_ += static_cast<char>(i & 0xFF);
      out_ += static_cast<char>(i >> 8);
    } else if (i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max()) {
      out_ += 'J';
      u32(static_cast<uint32_t>(static_cast<int32_t>(i)));
    } else {
      out_ += "\x8a\x08";
      for (int b = 0; b < 8; ++b) out_ += static_cast<char>((static_cast<uint64_t>(i) >> (8 * b)) & 0xFF);
    }
  }
  void tuple(const List& items) {
    if (items.empty()) {
      out_ += ')';
      return;
    }
    if (items.size() > 3) out_ += '(';
    for (const Value& x : items) write(x);
    out_ += items.size() == 1 ? "\x85" : items.size() == 2 ? "\x86" : items.size() == 3 ? "\x87" : "t";
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    out_ += ")R";
  }

  void tensor(const torch::Tensor& t) {
    if (!t.device().is_cpu()) throw Error("pickle: tensors must be on the CPU to be saved");
    const int64_t elem = static_cast<int64_t>(t.element_size());
    global("torch._utils", "_rebuild_tensor_v2");
    out_ += '(';
    out_ += '(';  // persistent id ("storage", class, key, location, numel)
    text("storage");
    global("torch", storage_class(t.scalar_type()));
    text(key_(t));
    text("cpu");
    integer(static_cast<int64_t>(t.storage().nbytes()) / elem);
    out_ += "tQ";
    integer(t.storage_offset());
    List sizes, strides;
    for (int64_t s : t.sizes()) sizes.push_back(Value::integer(s));
    for (int64_t s : t.strides()) strides.push_back(Value::integer(s));
    tuple(sizes);
    tuple(strides);
    out_ += '\x89';  // requires_grad False
    empty_ordered_dict();
    out_ += "tR";
  }

  void write(const Value& v) {
    switch (v.kind()) {
      case K::None: out_ += 'N'; break;
      case K::Bool: out_ += v.as_bool() ? '\x88' : '\x89'; break;
      case K::Int: integer(v.as_int()); break;
      case K::Float: {
        double d = v.as_double();
        uint64_t bits;
        std::memcpy(&bits, &d, 8);
        out_ += 'G';
        for (int i = 7; i >= 0; --i) out_ += static_cast<char>((bits >> (8 * i)) & 0xFF);
        break;
      }
      case K::String: text(v.as_string()); break;
      case K::Bytes: {
        // Protocol 2 has no bytes opcode that Python 3 reads as bytes: encode(latin-1, 'latin1').
        global("_codecs", "encode");
        std::string utf8;
        for (unsigned char c : v.as_string()) {
          if (c < 0x80) {
            utf8 += static_cast<char>(c);
          } else {
            utf8 += static_cast<char>(0xC0 | (c >> 6));
            utf8 += static_cast<char>(0x80 | (c & 0x3F));
          }
        }
        text(utf8);
        text("latin1");
        out_ += "\x86R";
        break;
      }
      case K::List: {
        out_ += ']';
        const List& items = v.items();
        for (size_t i = 0; i < items.size(); i += 1000) {
          out_ += '(';
          for (size_t j = i; j < std::min(items.size(), i + 1000); ++j) write(items[j]);
          out_ += 'e';
        }
        break;
      }
      case K::Tuple: tuple(v.items()); break;
      case K::Dict: {
        const Dict& d = v.as_dict();
        if (d.ordered) empty_ordered_dict();
        else out_ += '}';
        for (size_t i = 0; i < d.items.size(); i += 1000) {
          out_ += '(';
          for (size_t j = i; j < std::min(d.items.size(), i + 1000); ++j) {
            write(d.items[j].first);
            write(d.items[j].second);
          }
          out_ += 'u';
        }
        if (d.ordered && d.attrs && !d.attrs->is_none()) {  // as pickle saves OrderedDict.__dict__
          write(*d.attrs);
          out_ += 'b';
        }
        break;
      }
      case K::Tensor: tensor(v.as_tensor()); break;
      case K::Object: {
        const Object& o = v.as_object();
        global(o.module, o.name);
        if (o.newobj || !o.args->is_none()) {
          if (o.args->is(K::Tuple)) write(*o.args);
          else tuple({});
          out_ += o.newobj ? "\x81" : "R";
        }
        if (!o.state->is_none()) {
          write(*o.state);
          out_ += 'b';
        }
        break;
      }
    }
  }

  const StorageKey& key_;
  std::string out_;
};

}  // namespace

std::string storage_class(torch::ScalarType dtype) {
  for (const auto& [name, t] : kStorageClasses)
    if (t == dtype) return name;
  throw Error(std::string("cannot save tensors of dtype ") + c10::toString(dtype));
}

torch::ScalarType storage_dtype(const std::string& class_name, const std::string& where) {
  for (const auto& [name, t] : kStorageClasses)
    if (class_name == name) return t;
  throw Error(where + ": unsupported storage class torch." + class_name);
}

std::string pickle(const Value& v, const StorageKey& storage_key) { return Pickler(storage_key).run(v); }

}  // namespace w2v::ckpt
