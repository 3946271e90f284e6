#include "checkpoint/json_file.h"

#include <set>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::ckpt {

nlohmann::ordered_json parse_json(std::string_view text, const std::string& where) {
  using json = nlohmann::ordered_json;
  std::vector<std::set<std::string>> keys;  // keys seen in each open object
  std::string repeated;
  auto check = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty() && repeated.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      repeated = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    throw Error(where + ": bad JSON: " + e.what());
  }
  if (!repeated.empty()) throw Error(where + ": key '" + repeated + "' appears twice in one object");
  return j;
}

nlohmann::ordered_json read_json_file(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace w2v::ckpt
