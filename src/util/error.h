// The one exception type of w2v. Every error a user can cause (bad file, bad line, bad key)
// is thrown as w2v::Error with its context, so that the CLI prints exactly one line:
//   "<where>: <what>"   e.g. "data/train.tsv:17: expected 'path<TAB>num_samples', got 'foo'".
#pragma once

#include <stdexcept>
#include <string>

namespace w2v {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds "file:line: message" (line omitted when 0).
Error file_error(const std::string& file, long line, const std::string& message);
// Builds "key 'a.b.c': message".
Error key_error(const std::string& key, const std::string& message);

}  // namespace w2v
