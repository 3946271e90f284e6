// A training/evaluation configuration in fairseq's hydra layout: a YAML file plus dotted
// overrides `section.key=value` (values parsed as YAML), checked against config/schema.h.
// Contract: after construction every key of the chosen `_name`s has a value of its declared
// type (file or override, else fairseq's default); unknown keys, wrong types and bad `_name`s
// were rejected with a one-line w2v::Error naming file:line or the override.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace w2v::config {

class Config {
 public:
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  // `source` names the text in error messages (a file name or "<string>").
  static Config parse(const std::string& yaml_text, const std::string& source,
                      const std::vector<std::string>& overrides = {});

  // Typed getters by dotted key ("optimization.max_update"). Interpolations "${a.b}" are
  // followed. A null value, a required "???" value or a wrong choice throws w2v::Error.
  bool flag(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  std::string text(const std::string& key) const;
  std::vector<double> reals(const std::string& key) const;  // lists, scalars, "(a,b)" tuples
  std::vector<int64_t> integers(const std::string& key) const;
  std::vector<std::string> texts(const std::string& key) const;
  // False when the value is null (fairseq's None) or required-but-missing.
  bool is_set(const std::string& key) const;

  // The section's `_name` ("" when the section has none).
  std::string choice(const std::string& section) const;

  // One line per ignored key the config set explicitly (see KeySpec::ignored_because).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Every section and key with interpolations resolved, as fairseq saves `cfg`.
  YAML::Node tree() const;
  std::string to_yaml() const;

 private:
  struct Entry {
    std::string key;  // dotted
    YAML::Node value;
  };
  const YAML::Node& node(const std::string& key) const;
  YAML::Node resolved(const std::string& key, int depth = 0) const;
  YAML::Node required(const std::string& key) const;

  std::string source_;
  std::vector<Entry> entries_;  // schema order
  std::vector<std::pair<std::string, std::string>> choices_;
  std::vector<std::string> warnings_;
};

}  // namespace w2v::config
