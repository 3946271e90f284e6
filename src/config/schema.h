// The known configuration keys: fairseq's dataclass fields for the sections and `_name` choices
// w2v implements, with fairseq's defaults. A key outside this table is an error, so a typo can
// never silently fall back to a default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace w2v::config {

class Config;

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

// The values a numeric key accepts (each element, for a list): finite, within [lo, hi] (lo
// excluded when lo_open), and a list holds min_count..max_count elements. Bounds on sizes
// (model dimensions, counts) keep what a config can make the program allocate bounded.
struct Range {
  double lo, hi;
  bool lo_open = false;
  size_t min_count = 0, max_count = SIZE_MAX;
};
// nullptr for a key without a range (not numeric, or accepted but ignored).
const Range* range_of(const std::string& dotted_key);
// Throws key_error naming the first numeric key of the chosen sections whose set value lies
// outside its Range; run before any work starts (`w2v train` and the Trainer do).
void check_ranges(const Config& cfg);

}  // namespace w2v::config
