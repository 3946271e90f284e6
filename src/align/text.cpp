#include "align/text.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "align/numbers.h"
#include "decode/tokens.h"
#include "util/error.h"

namespace w2v::align {

namespace {

struct Char {
  char32_t cp;
  std::string utf8;
  Position position;
};

std::string encode(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Code points with their positions; invalid UTF-8 is an error naming the position.
std::vector<Char> decode_utf8(const std::string& text, const std::string& name) {
  std::vector<Char> out;
  Position pos{1, 1};
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
    char32_t cp = extra == 0 ? b : extra == 1 ? (b & 0x1F) : extra == 2 ? (b & 0x0F) : (b & 0x07);
    bool ok = extra >= 0 && i + extra < text.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      ok = (c >> 6) == 2;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) throw file_error(name, pos.line, fmt::format("column {}: invalid UTF-8 (byte 0x{:02X})", pos.column, b));
    out.push_back({cp, text.substr(i, extra + 1), pos});
    i += extra + 1;
    if (cp == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return out;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0x202F ||
         c == 0x3000;
}

// Hyphens, dashes and slashes: "well-known" and "and/or" are two words when spoken.
bool is_splitter(char32_t c) { return c == '-' || c == '/' || (c >= 0x2010 && c <= 0x2015); }

// Unicode general category P (punctuation) for ASCII and Latin-1, and the General
// Punctuation block; symbols (S*: $ + < = > ^ ` | ~ ...) are not punctuation.
bool is_punctuation(char32_t c) {
  if (c < 0x80) return c != '$' && c != '+' && c != '<' && c != '=' && c != '>' && c != '^' && c != '`' && c != '|' &&
                       c != '~' && std::ispunct(static_cast<int>(c));
  return c == 0xA1 || c == 0xA7 || c == 0xAB || c == 0xB6 || c == 0xB7 || c == 0xBB || c == 0xBF ||
         (c >= 0x2016 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E && c != 0x2044 && c != 0x2052) ||
         (c >= 0x3001 && c <= 0x3003);
}

// ASCII and Latin-1 case mapping (the letters a letter dictionary can hold).
char32_t to_case(char32_t c, bool upper) {
  if (upper) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  } else {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  }
  return c;
}

// Base letters of Latin-1's letters with diacritics (U+00C0..U+00FF, upper case; "" for the
// two signs × and ÷).
std::string fold_latin1(char32_t c) {
  static const char* const kFold[] = {"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
                                      "D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "SS"};
  if (c < 0xC0 || c > 0xFF) return "";
  return kFold[(c - 0xC0) % 32];
}

class Speller {
 public:
  Speller(const std::vector<std::string>& symbols, AlignText& out) : out_(out) {
    decode::TokenSet tokens(symbols);
    int upper = 0, lower = 0;
    for (int i = 0; i < tokens.size(); ++i) {
      const std::string& s = tokens.symbol(i);
      if (i == tokens.blank() || tokens.is_special(i)) continue;
      if (i == tokens.silence() && (s == "|" || s == "<sep>")) {
        out_.separator = i;
        continue;
      }
      letters_.emplace(s, i);
      if (s.size() == 1 && std::isupper(static_cast<unsigned char>(s[0]))) ++upper;
      if (s.size() == 1 && std::islower(static_cast<unsigned char>(s[0]))) ++lower;
    }
    upper_ = upper >= lower;
  }

  // One whitespace-free run of characters, the source word `source`.
  void word(const std::vector<Char>& chars, int source) {
    source_ = source;
    for (size_t i = 0; i < chars.size();) {
      const Char& c = chars[i];
      const char32_t cased = to_case(c.cp, upper_);
      if (letter(encode(cased))) {
        ++i;
      } else if (c.cp >= '0' && c.cp <= '9') {
        i = number(chars, i);
      } else if (!fold_latin1(cased).empty() && spellable(cased_ascii(fold_latin1(cased)))) {
        for (char f : cased_ascii(fold_latin1(cased))) letter(std::string(1, f));
        ++i;
      } else {
        if (is_splitter(c.cp)) flush();
        else if (!is_punctuation(c.cp)) unknowns_.push_back({c.position, c.utf8});
        ++i;
      }
    }
    flush();
  }

  const std::vector<SkippedChar>& unknowns() const { return unknowns_; }

 private:
  std::string cased_ascii(std::string s) const {
    for (char& ch : s) ch = static_cast<char>(upper_ ? std::toupper(static_cast<unsigned char>(ch)) : std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }
  bool spellable(const std::string& s) const {
    return std::all_of(s.begin(), s.end(), [&](char ch) { return letters_.count(std::string(1, ch)) > 0; });
  }
  // Appends the dictionary letter `s` to the current spoken word; false when there is none.
  bool letter(const std::string& s) {
    auto it = letters_.find(s);
    if (it == letters_.end()) return false;
    current_.text += s;
    current_.tokens.push_back(it->second);
    return true;
  }
  void flush() {
    if (current_.tokens.empty()) return;
    current_.source = source_;
    out_.spoken.push_back(std::move(current_));
    current_ = SpokenWord();
  }
  // Spoken words for the digits from chars[i]: commas between digits are thousands separators,
  // a point between digits is read POINT and the digits after it one by one. A word of its own
  // each, whatever letters touch them ("3rd" -> THREE RD). Returns the index after the number.
  size_t number(const std::vector<Char>& chars, size_t i) {
    auto digit = [&](size_t k) { return k < chars.size() && chars[k].cp >= '0' && chars[k].cp <= '9'; };
    std::string whole, fraction;
    bool point = false;
    for (; i < chars.size(); ++i) {
      if (digit(i)) (point ? fraction : whole) += static_cast<char>(chars[i].cp);
      else if (chars[i].cp == ',' && !point && digit(i + 1)) continue;
      else if (chars[i].cp == '.' && !point && digit(i + 1)) point = true;
      else break;
    }
    std::vector<std::string> words = number_words(whole);
    if (point) {
      words.push_back("POINT");
      for (auto& w : digit_words(fraction)) words.push_back(w);
    }
    flush();
    for (const auto& w : words) {
      const std::string cased = cased_ascii(w);
      if (!spellable(cased)) {
        unknowns_.push_back({chars[i - 1].position, chars[i - 1].utf8});
        break;
      }
      for (char ch : cased) letter(std::string(1, ch));
      flush();
    }
    return i;
  }

  AlignText& out_;
  std::unordered_map<std::string, int> letters_;
  bool upper_ = true;
  int source_ = 0;
  SpokenWord current_;
  std::vector<SkippedChar> unknowns_;
};

}  // namespace

std::vector<int> AlignText::labels() const {
  std::vector<int> out;
  for (size_t w = 0; w < spoken.size(); ++w) {
    if (w > 0 && separator >= 0) out.push_back(separator);
    out.insert(out.end(), spoken[w].tokens.begin(), spoken[w].tokens.end());
  }
  return out;
}

AlignText normalize(const std::string& text, const std::vector<std::string>& symbols, const std::string& name,
                    Unknown unknown) {
  AlignText out;
  Speller speller(symbols, out);
  const std::vector<Char> chars = decode_utf8(text, name);
  std::string pending;  // letterless words before the first spelled one
  Position pending_at;
  for (size_t i = 0; i < chars.size();) {
    if (is_space(chars[i].cp)) {
      ++i;
      continue;
    }
    size_t j = i;
    std::string raw;
    while (j < chars.size() && !is_space(chars[j].cp)) raw += chars[j++].utf8;
    const std::vector<Char> word(chars.begin() + static_cast<long>(i), chars.begin() + static_cast<long>(j));
    const size_t before = out.spoken.size();
    speller.word(word, static_cast<int>(out.source.size()));
    if (out.spoken.size() > before) {
      out.source.push_back({pending.empty() ? raw : pending + " " + raw, pending.empty() ? chars[i].position : pending_at});
      pending.clear();
    } else if (!out.source.empty()) {
      out.source.back().text += " " + raw;
    } else {
      if (pending.empty()) pending_at = chars[i].position;
      pending += (pending.empty() ? "" : " ") + raw;
    }
    i = j;
  }
  const auto& unknowns = speller.unknowns();
  if (!unknowns.empty() && unknown == Unknown::kError) {
    std::string list;
    for (size_t k = 0; k < unknowns.size() && k < 8; ++k)
      list += fmt::format("{}{}:{} '{}'", k ? ", " : "", unknowns[k].position.line, unknowns[k].position.column,
                          unknowns[k].character);
    if (unknowns.size() > 8) list += fmt::format(" and {} more", unknowns.size() - 8);
    throw file_error(name, 0,
                     fmt::format("{} character(s) the model's dictionary cannot spell (line:column): {} "
                                 "(see docs/alignment.md; --unknown skip drops them and lists them)",
                                 unknowns.size(), list));
  }
  out.skipped = unknowns;
  if (out.spoken.empty()) throw file_error(name, 0, "no word the model can spell: nothing to align");
  return out;
}

}  // namespace w2v::align
