#include "config/config.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>

#include "config/schema.h"
#include "eval/edit_distance.h"  // header-only: no link dependency on w2v_eval
#include "util/error.h"
#include "util/fs.h"

namespace w2v::config {

namespace {

// One assignment from the file or the command line, in the order they apply.
struct Assignment {
  std::string key;  // dotted
  YAML::Node value;
  std::string where;  // "file.yaml:12" or "override 'a.b=c'"
};

bool is_interpolation(const YAML::Node& n) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  return s.size() > 3 && s.compare(0, 2, "${") == 0 && s.back() == '}';
}

bool is_missing(const YAML::Node& n) { return n.IsScalar() && n.Scalar() == "???"; }

template <class T>
bool converts(const YAML::Node& n) {
  T out;
  return n.IsScalar() && YAML::convert<T>::decode(n, out);
}

std::vector<double> parse_tuple(const std::string& text, bool* ok) {
  std::string s = text;
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' '; }), s.end());
  *ok = s.size() >= 2 && ((s.front() == '(' && s.back() == ')') ||
                          (s.front() == '[' && s.back() == ']'));
  std::vector<double> out;
  if (!*ok) return out;
  std::stringstream ss(s.substr(1, s.size() - 2));
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) *ok = false;
    } catch (const std::exception&) {
      *ok = false;
    }
  }
  if (out.empty()) *ok = false;
  return out;
}

bool type_ok(Type t, const YAML::Node& n) {
  if (n.IsNull() || is_missing(n) || is_interpolation(n)) return true;
  auto all = [&](auto pred) {
    if (n.IsScalar()) return pred(n);
    if (!n.IsSequence()) return false;
    for (const auto& e : n)
      if (!pred(e)) return false;
    return true;
  };
  switch (t) {
    case Type::Bool: return converts<bool>(n);
    case Type::Int: return converts<long long>(n);
    case Type::Float: return converts<double>(n);
    case Type::String: return n.IsScalar();
    case Type::IntList: return all([](const YAML::Node& e) { return converts<long long>(e); });
    case Type::FloatList: return all([](const YAML::Node& e) { return converts<double>(e); });
    case Type::StringList: return all([](const YAML::Node& e) { return e.IsScalar(); });
    case Type::FloatTuple: {
      if (n.IsSequence()) return all([](const YAML::Node& e) { return converts<double>(e); });
      bool ok = false;
      if (n.IsScalar()) parse_tuple(n.Scalar(), &ok);
      return ok;
    }
  }
  return false;
}

// "; did you mean 'x'?" for the nearest candidate (the first of equally near ones); "" for a key
// too long to be a typo (edit distance is quadratic: a hostile key of kilobytes would cost
// seconds). A candidate is only measured up to the best distance so far: most of the ~300 keys
// are dropped by their length or after a few rows (the full alignment of each was a third of
// fuzz_config's time).
std::string suggestion(const std::string& key, const std::vector<std::string>& candidates) {
  if (key.size() > 64 || candidates.empty()) return "";
  const std::string* best = &candidates.front();
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    if (best_d == 0) break;
    const size_t d = eval::edit_distance_at_most(key, c, best_d - 1);
    if (d < best_d) best_d = d, best = &c;
  }
  return "; did you mean '" + *best + "'?";
}

std::string yaml_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

void flatten(const YAML::Node& root, const std::string& source, std::vector<Assignment>& out) {
  if (root.IsNull()) return;
  if (!root.IsMap())
    throw file_error(source, root.Mark().line + 1, "expected a mapping of config sections");
  // A key that is itself a list or mapping ("[a]: 1") is no name.
  auto name = [&](const YAML::Node& key) {
    if (!key.IsScalar()) throw file_error(source, key.Mark().line + 1, "expected a plain key, got " + yaml_text(key));
    return key.Scalar();
  };
  for (const auto& sec : root) {
    const std::string section = name(sec.first);
    const long line = sec.first.Mark().line + 1;
    if (sec.second.IsNull()) continue;
    if (!sec.second.IsMap())
      throw file_error(source, line, "section '" + section + "' must be a mapping of keys");
    for (const auto& kv : sec.second)
      out.push_back({section + "." + name(kv.first), kv.second, source + ":" + std::to_string(kv.first.Mark().line + 1)});
  }
}

Assignment parse_override(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s[0] == '+') s.erase(0, 1);
  const size_t eq = s.find('=');
  const std::string where = "override '" + text + "'";
  if (eq == std::string::npos || eq == 0)
    throw Error(where + ": expected section.key=value");
  std::string key = s.substr(0, eq);
  if (key.find('.') == std::string::npos)
    throw Error(where + ": expected section.key=value (the key needs its section)");
  YAML::Node value;
  try {
    value = YAML::Load(s.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error(where + ": value is not valid YAML: " + e.msg);
  }
  return {key, value, where};
}

}  // namespace

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  return parse(read_file(path), path, overrides);
}

Config Config::parse(const std::string& yaml_text_in, const std::string& source,
                     const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text_in);
  } catch (const YAML::Exception& e) {
    throw file_error(source, e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  std::vector<Assignment> assigns;
  flatten(root, source, assigns);
  for (const auto& o : overrides) assigns.push_back(parse_override(o));

  Config cfg;
  cfg.source_ = source;
  const auto& secs = sections();
  std::map<std::string, std::string> chosen;
  std::map<std::string, std::string> chosen_where;
  for (const auto& a : assigns) {
    const std::string section = a.key.substr(0, a.key.find('.'));
    if (std::find(secs.begin(), secs.end(), section) == secs.end())
      throw Error(a.where + ": unknown section '" + section + "'" + suggestion(section, secs));
    if (a.key == section + "._name") {
      const auto& options = choices(section);
      std::string name = a.value.IsScalar() ? a.value.Scalar() : "";
      if (std::find(options.begin(), options.end(), name) == options.end()) {
        std::string list;
        for (const auto& o : options) list += (list.empty() ? "" : ", ") + o;
        throw Error(a.where + ": " + section + "._name '" + name + "' is not supported" +
                    (options.empty() ? "; this section has no _name"
                                     : " (expected one of: " + list + ")"));
      }
      chosen[section] = name;
      chosen_where[section] = a.where;
    }
  }
  for (const auto& section : secs)
    if (chosen.count(section)) cfg.choices_.push_back({section, chosen[section]});

  std::vector<std::string> known;
  std::map<std::string, const KeySpec*> spec_of;
  // The schema's defaults parsed once (a few hundred small documents), cloned per config.
  static const std::vector<YAML::Node> defaults = [] {
    std::vector<YAML::Node> out;
    for (const auto& k : schema()) out.push_back(YAML::Load(k.default_yaml));
    return out;
  }();
  for (size_t i = 0; i < schema().size(); ++i) {
    const KeySpec& k = schema()[i];
    if (!k.choice.empty() && (chosen.count(k.section) == 0 || chosen[k.section] != k.choice))
      continue;
    const std::string dotted = k.section + "." + k.key;
    known.push_back(dotted);
    spec_of[dotted] = &k;
    cfg.entries_.push_back({dotted, YAML::Clone(defaults[i])});
  }

  std::set<std::string> warned;
  for (const auto& a : assigns) {
    const std::string section = a.key.substr(0, a.key.find('.'));
    if (a.key == section + "._name") continue;
    auto it = spec_of.find(a.key);
    if (it == spec_of.end()) {
      // Every key of the schema, whatever the choices (no string built per key and unknown key).
      static const std::set<std::string> any_choice = [] {
        std::set<std::string> out;
        for (const auto& k : schema()) out.insert(k.section + "." + k.key);
        return out;
      }();
      if (any_choice.count(a.key) && !choices(section).empty())
        throw Error(a.where + ": key '" + a.key + "' does not apply to " + section +
                    "._name=" + (chosen.count(section) ? chosen[section] : "(unset)"));
      throw Error(a.where + ": unknown key '" + a.key + "'" + suggestion(a.key, known));
    }
    const KeySpec& spec = *it->second;
    if (!type_ok(spec.type, a.value))
      throw Error(a.where + ": key '" + a.key + "' expects " + type_name(spec.type) + ", got " +
                  yaml_text(a.value));
    for (auto& e : cfg.entries_)
      if (e.key == a.key) e.value = YAML::Clone(a.value);
    if (!spec.ignored_because.empty() && warned.insert(a.key).second)
      cfg.warnings_.push_back("warning: " + a.key + " is ignored: " + spec.ignored_because);
  }
  return cfg;
}

const YAML::Node& Config::node(const std::string& key) const {
  for (const auto& e : entries_)
    if (e.key == key) return e.value;
  const std::string section = key.substr(0, key.find('.'));
  for (const auto& k : schema())
    if (k.section + "." + k.key == key)
      throw key_error(key, "not available with " + section + "._name=" +
                               (choice(section).empty() ? "(unset)" : choice(section)) + " in " +
                               source_);
  throw key_error(key, "unknown configuration key");
}

YAML::Node Config::resolved(const std::string& key, int depth) const {
  const YAML::Node& n = node(key);
  if (is_interpolation(n)) {
    if (depth > 8) throw key_error(key, "interpolation cycle");
    const std::string& s = n.Scalar();
    return resolved(s.substr(2, s.size() - 3), depth + 1);
  }
  return n;
}

YAML::Node Config::required(const std::string& key) const {
  YAML::Node n = resolved(key);
  if (is_missing(n))
    throw key_error(key, "is required but not set in " + source_ + " (pass " + key + "=VALUE)");
  if (n.IsNull()) throw key_error(key, "is not set in " + source_);
  return n;
}

bool Config::is_set(const std::string& key) const {
  YAML::Node n = resolved(key);
  return !n.IsNull() && !is_missing(n);
}

namespace {

// n.as<T>() with yaml-cpp's conversion error turned into one naming the key: types are checked
// when the config is parsed, but an interpolation "${a.b}" may bring a value of another type.
template <class T>
T as(const YAML::Node& n, const std::string& key, const char* expected) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    throw key_error(key, std::string("expects ") + expected + ", got " + yaml_text(n));
  }
}

}  // namespace

bool Config::flag(const std::string& key) const { return as<bool>(required(key), key, "a bool"); }
int64_t Config::integer(const std::string& key) const { return as<long long>(required(key), key, "an integer"); }
double Config::real(const std::string& key) const { return as<double>(required(key), key, "a number"); }
std::string Config::text(const std::string& key) const { return as<std::string>(required(key), key, "a string"); }

std::vector<double> Config::reals(const std::string& key) const {
  YAML::Node n = required(key);
  if (n.IsSequence()) return as<std::vector<double>>(n, key, "a list of numbers");
  bool ok = false;
  std::vector<double> t = parse_tuple(as<std::string>(n, key, "a number or list"), &ok);
  if (ok) return t;
  return {as<double>(n, key, "a number or list")};
}

std::vector<int64_t> Config::integers(const std::string& key) const {
  YAML::Node n = required(key);
  if (n.IsSequence()) {
    std::vector<int64_t> out;
    for (const auto& e : n) out.push_back(as<long long>(e, key, "a list of integers"));
    return out;
  }
  return {as<long long>(n, key, "an integer or list")};
}

std::vector<std::string> Config::texts(const std::string& key) const {
  YAML::Node n = required(key);
  if (n.IsSequence()) return as<std::vector<std::string>>(n, key, "a list of strings");
  return {as<std::string>(n, key, "a string or list")};
}

std::string Config::choice(const std::string& section) const {
  for (const auto& c : choices_)
    if (c.first == section) return c.second;
  return "";
}

YAML::Node Config::tree() const {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& [section, name] : choices_) root[section]["_name"] = name;
  for (const auto& e : entries_) {
    const size_t dot = e.key.find('.');
    root[e.key.substr(0, dot)][e.key.substr(dot + 1)] = YAML::Clone(resolved(e.key));
  }
  return root;
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << tree();
  return std::string(out.c_str()) + "\n";
}

}  // namespace w2v::config
