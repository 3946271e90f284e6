// fuzz-sources: src/config/config.cpp src/config/schema.cpp src/util/error.cpp src/util/fs.cpp
// fuzz-libs: -lyaml-cpp
// fuzz-options: -max_len=8192
// libFuzzer harness for the training configuration: fairseq-layout YAML plus dotted overrides.
// The input is the YAML text, then (after a NUL byte) one override per line. Any input must give
// a Config whose every key can be read and saved, or a w2v::Error; never a crash, a sanitizer
// report, a hang or unbounded memory. Build: fuzz/build.sh; run: fuzz/run.sh config SECONDS.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/schema.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::istringstream lines(input.substr(nul + 1));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  try {
    const w2v::config::Config cfg = w2v::config::Config::parse(input.substr(0, nul), "<fuzz>", overrides);
    cfg.to_yaml();
    // The keys the input mentions read with their declared types, as the trainer reads them; an
    // unset, required or mistyped (interpolated) value must be a w2v::Error. (Untouched keys hold
    // fixed defaults: reading all ~300 every run would only slow the search down.)
    for (const w2v::config::KeySpec& k : w2v::config::schema()) {
      if (!k.choice.empty() && cfg.choice(k.section) != k.choice) continue;
      if (input.find(k.key) == std::string::npos) continue;
      const std::string key = k.section + "." + k.key;
      try {
        switch (k.type) {
          case w2v::config::Type::Bool: cfg.flag(key); break;
          case w2v::config::Type::Int: cfg.integer(key); break;
          case w2v::config::Type::Float: cfg.real(key); break;
          case w2v::config::Type::String: cfg.text(key); break;
          case w2v::config::Type::IntList: cfg.integers(key); break;
          case w2v::config::Type::FloatList:
          case w2v::config::Type::FloatTuple: cfg.reals(key); break;
          case w2v::config::Type::StringList: cfg.texts(key); break;
        }
      } catch (const w2v::Error&) {
      }
    }
    w2v::config::check_ranges(cfg);
  } catch (const w2v::Error&) {
  }
  return 0;
}
