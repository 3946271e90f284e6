#include "decode/lexicon.h"

#include <sstream>
#include <unordered_map>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::decode {

Lexicon Lexicon::load(const std::string& path, const TokenSet& tokens) { return parse(read_file(path), path, tokens); }

Lexicon Lexicon::parse(const std::string& content, const std::string& name, const TokenSet& tokens) {
  Lexicon lex;
  std::unordered_map<std::string, int> ids;
  std::istringstream in(content);
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string word, token;
    if (!(fields >> word)) continue;  // blank line
    std::vector<int> spelling;
    while (fields >> token) {
      int id = tokens.index(token);
      if (id < 0) throw file_error(name, number, "token '" + token + "' of word '" + word + "' is not in the dictionary");
      spelling.push_back(id);
    }
    if (spelling.empty()) throw file_error(name, number, "expected 'WORD t1 t2 ...', got the word '" + word + "' without a spelling");
    auto [it, inserted] = ids.emplace(word, static_cast<int>(lex.entries_.size()));
    if (inserted) lex.entries_.push_back({word, {}});
    lex.entries_[it->second].spellings.push_back(std::move(spelling));
  }
  auto [it, inserted] = ids.emplace("<unk>", static_cast<int>(lex.entries_.size()));
  if (inserted) lex.entries_.push_back({"<unk>", {}});
  lex.unk_ = it->second;
  return lex;
}

}  // namespace w2v::decode
