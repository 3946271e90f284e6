// A pronunciation lexicon: words and their spellings in acoustic tokens. File format (fairseq /
// flashlight): one spelling per line, `WORD t1 t2 ... tn`, whitespace-separated, tokens being
// dictionary symbols (for letters the spelling ends with "|": `HELLO H E L L O |`). Several lines
// may give several spellings of one word. Word ids are the order of first appearance; the word
// "<unk>" (no spelling) is appended last, as fairseq's loader does.
#pragma once

#include <string>
#include <vector>

#include "decode/tokens.h"

namespace w2v::decode {

class Lexicon {
 public:
  struct Entry {
    std::string word;
    std::vector<std::vector<int>> spellings;
  };

  // Throws w2v::Error naming file:line for a line without tokens or with a token missing from
  // the token set.
  static Lexicon load(const std::string& path, const TokenSet& tokens);
  static Lexicon parse(const std::string& content, const std::string& name, const TokenSet& tokens);

  const std::vector<Entry>& entries() const { return entries_; }
  int size() const { return static_cast<int>(entries_.size()); }
  const std::string& word(int id) const { return entries_.at(id).word; }
  int unk() const { return unk_; }

 private:
  std::vector<Entry> entries_;
  int unk_ = -1;
};

}  // namespace w2v::decode
