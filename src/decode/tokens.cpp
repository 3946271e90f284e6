#include "decode/tokens.h"

#include "util/error.h"

namespace w2v::decode {

TokenSet::TokenSet(std::vector<std::string> symbols, PostProcess post_process)
    : symbols_(std::move(symbols)), post_process_(post_process) {
  if (symbols_.size() < 3) throw Error("token set: expected at least 3 symbols (<s>, <pad>, </s>, ...), got " +
                                       std::to_string(symbols_.size()));
  for (int i = 0; i < size(); ++i) {
    index_.emplace(symbols_[i], i);  // first occurrence wins, like fairseq
    special_.push_back(symbols_[i] == "<s>" || symbols_[i] == "<pad>" || symbols_[i] == "</s>");
  }
  blank_ = index("<ctc_blank>") >= 0 ? index("<ctc_blank>") : 0;
  silence_ = index("<sep>") >= 0 ? index("<sep>") : index("|") >= 0 ? index("|") : 2;
  for (int i = 0; i < size(); ++i) {
    if (special_[i] || i == blank_) spellings_.emplace_back();
    // "<sep>" is a word boundary too when letters are the units.
    else if (i == silence_ && post_process == PostProcess::kLetter) spellings_.emplace_back(" ");
    else spellings_.push_back(spell_unit(symbols_[i], post_process));
  }
}

int TokenSet::index(const std::string& symbol) const {
  auto it = index_.find(symbol);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace w2v::decode
