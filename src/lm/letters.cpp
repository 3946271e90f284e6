#include "lm/letters.h"

#include <algorithm>

namespace w2v::lm {

std::vector<std::string_view> utf8_characters(std::string_view word) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < word.size();) {
    const unsigned char c = static_cast<unsigned char>(word[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, word.size() - i);
    out.push_back(word.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace w2v::lm
