// The known configuration keys: fairseq's dataclass fields for the sections and `_name` choices
// w2v implements, with fairseq's defaults. A key outside this table is an error, so a typo can
// never silently fall back to a default.
#pragma once

#include <string>
#include <vector>

namespace w2v::config {

enum class Type { Bool, Int, Float, String, IntList, FloatList, StringList, FloatTuple };

struct KeySpec {
  std::string section;  // "optimizer"
  std::string choice;   // value of the section's `_name` this key belongs to; "" = any
  std::string key;      // "adam_betas"
  Type type;
  std::string default_yaml;  // YAML text; "null" = unset, "???" = required, "${a.b}" = copy of a.b
  // Non-empty: the key is accepted for fairseq compatibility but has no effect here; the text
  // says why and is printed once as a warning when a config sets it.
  std::string ignored_because;
};

const std::vector<KeySpec>& schema();

// Sections that select their key set with `_name`, and the choices w2v implements.
const std::vector<std::string>& choices(const std::string& section);

// Every section name, in fairseq's order.
const std::vector<std::string>& sections();

const char* type_name(Type t);

}  // namespace w2v::config
