// Label files ({split}.ltr letters, {split}.wrd words): one transcript per manifest entry, in
// manifest order. .wrd = "HELLO WORLD"; .ltr = "H E L L O | W O R L D |".
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace w2v::data {

// Lines of a label file without their newline; errors name the path.
std::vector<std::string> read_labels(const std::string& path);

// Word transcript -> fairseq letter line (libri_labels.py: spaces become '|', letters spaced,
// trailing " |").
std::string letters(const std::string& words);

// Transcripts keyed for lookup by manifest path. src is either a LibriSpeech tree (every
// *.trans.txt below it, "ID TEXT" lines, key = ID = the audio file's stem) or a TSV file of
// "KEY<TAB>text" lines, KEY = the manifest's relative path, the file name or the utterance id
// (file name up to its first dot). Text is upper-cased and its runs of whitespace collapsed.
// Errors name file:line.
class Transcripts {
 public:
  static Transcripts load(const std::string& src);
  // Transcript of a manifest entry, looked up by relative path, then file name, then id;
  // throws naming the entry when there is none. *key receives the key that matched.
  const std::string& find(const std::string& relative_path, std::string* key = nullptr) const;
  size_t size() const { return texts_.size(); }

 private:
  bool by_stem_ = false;
  std::string source_;
  std::unordered_map<std::string, std::string> texts_;
};

// Characters of text outside the alphabet (letters A-Z, apostrophe, space by default), in
// first-seen order; empty when the text is clean.
std::string invalid_characters(const std::string& text,
                               const std::string& alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ' ");

}  // namespace w2v::data
