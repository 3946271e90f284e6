// The acoustic model's output units by index (fairseq's target dictionary order, blank first),
// and the two special roles a CTC decoder needs: blank (emits nothing) and silence (word
// boundary). Roles follow fairseq's decoder setup (spec 8.3).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "decode/post_process.h"

namespace w2v::decode {

class TokenSet {
 public:
  // blank = "<ctc_blank>" if present else index 0 ("<s>"); silence = "<sep>" if present, else
  // "|", else index 2 ("</s>"). post_process says how units spell words (spelling()).
  explicit TokenSet(std::vector<std::string> symbols, PostProcess post_process = PostProcess::kLetter);

  int size() const { return static_cast<int>(symbols_.size()); }
  const std::string& symbol(int index) const { return symbols_.at(index); }
  // -1 when absent.
  int index(const std::string& symbol) const;
  int blank() const { return blank_; }
  PostProcess post_process() const { return post_process_; }
  int silence() const { return silence_; }
  // "<s>", "<pad>", "</s>": never spelled into words (fairseq's Dictionary.string drops them).
  bool is_special(int index) const { return special_.at(index); }
  // The unit's text with word boundaries as spaces (spell_unit); "" for the special symbols and
  // the blank, " " for the silence token under the letter post-process.
  const std::string& spelling(int index) const { return spellings_.at(index); }

 private:
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> index_;
  std::vector<bool> special_;
  std::vector<std::string> spellings_;
  PostProcess post_process_;
  int blank_ = 0, silence_ = 0;
};

}  // namespace w2v::decode
