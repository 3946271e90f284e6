#include "data/dictionary.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::data {

Dictionary::Dictionary() {
  for (const char* s : {"<s>", "<pad>", "</s>", "<unk>"}) add(s, 0);
}

int64_t Dictionary::add(const std::string& symbol, int64_t count) {
  auto it = indices_.find(symbol);
  if (it != indices_.end()) {
    counts_[static_cast<size_t>(it->second)] += count;
    return it->second;
  }
  const int64_t index = size();
  symbols_.push_back(symbol);
  counts_.push_back(count);
  indices_.emplace(symbol, index);
  return index;
}

Dictionary Dictionary::load(const std::string& path) {
  std::istringstream in(read_file(path));
  Dictionary dict;
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool overwrite = false;
    const std::string flag = " #fairseq:overwrite";
    if (line.size() > flag.size() && line.compare(line.size() - flag.size(), flag.size(), flag) == 0) {
      overwrite = true;
      line.resize(line.size() - flag.size());
    }
    const size_t space = line.rfind(' ');
    if (space == std::string::npos || space == 0)
      throw file_error(path, number, "expected 'symbol count', got '" + line + "'");
    const std::string symbol = line.substr(0, space), count_text = line.substr(space + 1);
    int64_t count = 0;
    size_t used = 0;
    try {
      count = std::stoll(count_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != count_text.size())
      throw file_error(path, number, "expected an integer count after '" + symbol + "', got '" + count_text + "'");
    if (dict.indices_.count(symbol) && !overwrite)
      throw file_error(path, number, "duplicate symbol '" + symbol + "' (add '#fairseq:overwrite' to allow it)");
    if (overwrite && dict.indices_.count(symbol)) {
      // fairseq appends the duplicate as a new entry and points the symbol at it.
      dict.symbols_.push_back(symbol);
      dict.counts_.push_back(count);
      dict.indices_[symbol] = dict.size() - 1;
    } else {
      dict.add(symbol, count);
    }
  }
  return dict;
}

Dictionary Dictionary::build(const std::string& label_path) {
  std::istringstream in(read_file(label_path));
  Dictionary seen;  // first-seen order and counts
  std::string token;
  while (in >> token) seen.add(token);
  std::vector<int64_t> order(static_cast<size_t>(seen.size() - kNumSpecial));
  std::iota(order.begin(), order.end(), kNumSpecial);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return seen.count(a) > seen.count(b); });
  Dictionary dict;
  for (int64_t i : order) {
    if (seen.symbol(i) == "<s>" || seen.symbol(i) == "<pad>" || seen.symbol(i) == "</s>" || seen.symbol(i) == "<unk>")
      continue;
    dict.add(seen.symbol(i), seen.count(i));
  }
  return dict;
}

int64_t Dictionary::index(const std::string& symbol) const {
  auto it = indices_.find(symbol);
  return it == indices_.end() ? kUnk : it->second;
}

const std::string& Dictionary::symbol(int64_t index) const {
  if (index < 0 || index >= size())
    throw Error("dictionary index " + std::to_string(index) + " out of range [0, " + std::to_string(size()) + ")");
  return symbols_[static_cast<size_t>(index)];
}

int64_t Dictionary::count(int64_t index) const {
  symbol(index);  // range check
  return counts_[static_cast<size_t>(index)];
}

std::vector<int64_t> Dictionary::encode(const std::string& line) const {
  std::istringstream in(line);
  std::vector<int64_t> ids;
  std::string token;
  while (in >> token) ids.push_back(index(token));
  return ids;
}

std::string Dictionary::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (!out.empty()) out += ' ';
    out += symbol(id);
  }
  return out;
}

void Dictionary::save(const std::string& path) const {
  write_atomic(path, [&](std::ostream& out) {
    for (int64_t i = kNumSpecial; i < size(); ++i) out << symbols_[static_cast<size_t>(i)] << ' ' << counts_[static_cast<size_t>(i)] << '\n';
  });
}

}  // namespace w2v::data
