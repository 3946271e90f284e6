// fairseq's Dictionary: <s>=0, <pad>=1, </s>=2, <unk>=3, then the file's symbols from index 4
// in file order. dict.*.txt holds one "symbol count" per line (split at the last space; a
// trailing " #fairseq:overwrite" allows a duplicate). Encoding splits on whitespace, maps
// unknown symbols to <unk> and appends no </s> (fairseq's label encoding for CTC).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace w2v::data {

class Dictionary {
 public:
  static constexpr int64_t kBos = 0, kPad = 1, kEos = 2, kUnk = 3, kNumSpecial = 4;

  Dictionary();  // the four special symbols only

  // Errors name path:line (bad count, duplicate symbol).
  static Dictionary load(const std::string& path);
  // Counts the whitespace-separated symbols of a label file (e.g. train.ltr): descending
  // count, ties in first-seen order.
  static Dictionary build(const std::string& label_path);

  // Appends symbol (or adds count to it if present); returns its index.
  int64_t add(const std::string& symbol, int64_t count = 1);
  int64_t index(const std::string& symbol) const;  // kUnk if absent
  const std::string& symbol(int64_t index) const;
  int64_t count(int64_t index) const;
  int64_t size() const { return static_cast<int64_t>(symbols_.size()); }
  const std::vector<std::string>& symbols() const { return symbols_; }  // by index, specials first

  std::vector<int64_t> encode(const std::string& line) const;
  // Symbols joined by spaces (specials included as their names).
  std::string decode(const std::vector<int64_t>& ids) const;

  // Writes "symbol count" for every non-special symbol, atomically.
  void save(const std::string& path) const;

 private:
  std::vector<std::string> symbols_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int64_t> indices_;
};

}  // namespace w2v::data
