#include "train/config_value.h"

#include "config/schema.h"

namespace w2v::train {

using ckpt::Value;
using config::Type;

namespace {

Value scalar(const YAML::Node& n, Type t) {
  if (n.IsNull()) return Value();
  switch (t) {
    case Type::Bool: return Value::boolean(n.as<bool>());
    case Type::Int: case Type::IntList: return Value::integer(n.as<long long>());
    case Type::Float: case Type::FloatList: case Type::FloatTuple: return Value::real(n.as<double>());
    default: return Value::string(n.Scalar());
  }
}

Value convert(const YAML::Node& n, Type t) {
  if (n.IsNull()) return Value();
  if (n.IsScalar() && n.Scalar() == "???") return Value::string("???");
  if (t == Type::FloatTuple && n.IsScalar()) return Value::string(n.Scalar());
  if (n.IsSequence()) {
    ckpt::List items;
    for (const auto& e : n) items.push_back(scalar(e, t));
    return Value::list(std::move(items));
  }
  if (t == Type::IntList || t == Type::FloatList || t == Type::StringList)
    return Value::list({scalar(n, t)});
  return scalar(n, t);
}

}  // namespace

Value config_section(const config::Config& cfg, const std::string& section) {
  const YAML::Node tree = cfg.tree();
  Value d = Value::dict();
  const std::string choice = cfg.choice(section);
  if (!choice.empty()) d.set("_name", Value::string(choice));
  for (const auto& k : config::schema()) {
    if (k.section != section || (!k.choice.empty() && k.choice != choice)) continue;
    d.set(k.key, convert(tree[section][k.key], k.type));
  }
  return d;
}

Value config_tree(const config::Config& cfg) {
  Value d = Value::dict();
  for (const auto& s : config::sections()) d.set(s, config_section(cfg, s));
  return d;
}

}  // namespace w2v::train
