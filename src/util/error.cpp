#include "util/error.h"

namespace w2v {

Error file_error(const std::string& file, long line, const std::string& message) {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  return Error(where + ": " + message);
}

Error key_error(const std::string& key, const std::string& message) {
  return Error("key '" + key + "': " + message);
}

}  // namespace w2v
