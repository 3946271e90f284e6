#include "data/labels.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::data {
namespace fs = std::filesystem;

std::vector<std::string> read_labels(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string letters(const std::string& words) {
  std::string out;
  for (char c : words) {
    if (!out.empty()) out += ' ';
    out += c == ' ' ? '|' : c;
  }
  return out + " |";
}

namespace {

std::string normalize_text(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if (!out.empty()) out += ' ';
    for (char c : word) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

void add_text(std::unordered_map<std::string, std::string>& texts, const std::string& key, const std::string& text,
              const std::string& file, long line) {
  if (!texts.emplace(key, normalize_text(text)).second)
    throw file_error(file, line, "duplicate transcript for '" + key + "'");
}

}  // namespace

Transcripts Transcripts::load(const std::string& src) {
  Transcripts t;
  t.source_ = src;
  std::error_code ec;
  if (fs::is_directory(src, ec)) {
    t.by_stem_ = true;
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_regular_file() && name.size() > 10 && name.compare(name.size() - 10, 10, ".trans.txt") == 0)
        files.push_back(it->path().string());
    }
    if (ec) throw file_error(src, 0, "cannot list directory: " + ec.message());
    if (files.empty()) throw file_error(src, 0, "no *.trans.txt files below this directory");
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      std::istringstream in(read_file(file));
      std::string line;
      long number = 0;
      while (std::getline(in, line)) {
        ++number;
        std::istringstream words(line);
        std::string id;
        if (!(words >> id)) continue;  // blank line
        std::string rest;
        std::getline(words, rest);
        add_text(t.texts_, id, rest, file, number);
      }
    }
    return t;
  }
  if (!fs::exists(src, ec)) throw file_error(src, 0, "transcripts not found (expected a LibriSpeech tree or a TSV file)");
  std::istringstream in(read_file(src));
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0)
      throw file_error(src, number, "expected 'KEY<TAB>text' (KEY: relative path, file name or id), got '" + line + "'");
    add_text(t.texts_, line.substr(0, tab), line.substr(tab + 1), src, number);
  }
  return t;
}

const std::string& Transcripts::find(const std::string& relative_path, std::string* key) const {
  const std::string name = fs::path(relative_path).filename().string();
  const std::string id = name.substr(0, name.find('.'));  // libri_labels.py: basename up to the first dot
  std::vector<std::string> keys = {id};
  if (!by_stem_) keys = {relative_path, name, id};
  for (const std::string& k : keys) {
    auto it = texts_.find(k);
    if (it == texts_.end()) continue;
    if (key) *key = k;
    return it->second;
  }
  throw file_error(source_, 0,
                   "no transcript for '" + relative_path + "' (looked up as " +
                       (by_stem_ ? "'" + id + "'" : "its path, '" + name + "' and '" + id + "'") + ")");
}

std::string invalid_characters(const std::string& text, const std::string& alphabet) {
  std::string bad;
  for (char c : text)
    if (alphabet.find(c) == std::string::npos && bad.find(c) == std::string::npos) bad += c;
  return bad;
}

}  // namespace w2v::data
