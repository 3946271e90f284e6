#include "eval/scoring.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace w2v::eval {

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::vector<std::string> split_chars(const std::string& text) {
  std::vector<std::string> chars;
  bool first = true;
  for (const auto& word : split_words(text)) {
    if (!first) chars.emplace_back(" ");
    first = false;
    for (size_t i = 0; i < word.size();) {
      // A UTF-8 code point: a lead byte and its continuation bytes (10xxxxxx).
      size_t len = 1;
      while (i + len < word.size() && (static_cast<unsigned char>(word[i + len]) & 0xC0) == 0x80) ++len;
      chars.push_back(word.substr(i, len));
      i += len;
    }
  }
  return chars;
}

const UtteranceScore& Scorer::add(const std::string& id, const std::string& ref, const std::string& hyp) {
  UtteranceScore u;
  u.id = id;
  u.ref = characters_ ? split_chars(ref) : split_words(ref);
  u.hyp = characters_ ? split_chars(hyp) : split_words(hyp);
  u.alignment = align(u.ref, u.hyp);
  size_t r = 0, h = 0;
  for (EditOp op : u.alignment.ops) {
    switch (op) {
      case EditOp::kMatch: ++r, ++h; break;
      case EditOp::kSubstitute: ++subs_count_[u.ref[r++] + " -> " + u.hyp[h++]]; break;
      case EditOp::kDelete: ++dels_count_[u.ref[r++]]; break;
      case EditOp::kInsert: ++ins_count_[u.hyp[h++]]; break;
    }
  }
  ref_units_ += u.ref.size();
  hyp_units_ += u.hyp.size();
  subs_ += u.alignment.substitutions;
  dels_ += u.alignment.deletions;
  ins_ += u.alignment.insertions;
  utts_.push_back(std::move(u));
  return utts_.back();
}

size_t Scorer::sentence_errors() const {
  return std::count_if(utts_.begin(), utts_.end(), [](const auto& u) { return u.alignment.errors() > 0; });
}

double Scorer::error_rate() const {
  if (ref_units_ == 0) return errors() == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return 100.0 * static_cast<double>(errors()) / static_cast<double>(ref_units_);
}

namespace {

std::vector<std::pair<std::string, size_t>> top_counts(const std::map<std::string, size_t>& counts, size_t top) {
  std::vector<std::pair<std::string, size_t>> v(counts.begin(), counts.end());
  // Ties keep the map's (alphabetical) order, so reports are deterministic.
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > top) v.resize(top);
  return v;
}

// Display width in code points, so that aligned columns hold for UTF-8 text.
size_t width(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string pad(const std::string& s, size_t w) { return s + std::string(w - width(s), ' '); }

}  // namespace

std::vector<std::pair<std::string, size_t>> Scorer::confusions(size_t top) const { return top_counts(subs_count_, top); }
std::vector<std::pair<std::string, size_t>> Scorer::deleted(size_t top) const { return top_counts(dels_count_, top); }
std::vector<std::pair<std::string, size_t>> Scorer::inserted(size_t top) const { return top_counts(ins_count_, top); }

std::string Scorer::report(size_t top) const {
  const char* unit = characters_ ? "characters" : "words";
  std::string out;
  for (const auto& u : utts_) {
    std::string ref_line = "REF: ", hyp_line = "HYP: ", eval_line = "EVAL:";
    size_t r = 0, h = 0;
    for (EditOp op : u.alignment.ops) {
      std::string a = op == EditOp::kInsert ? "***" : u.ref[r];
      std::string b = op == EditOp::kDelete ? "***" : u.hyp[h];
      const char* mark = op == EditOp::kMatch ? "" : op == EditOp::kSubstitute ? "S" : op == EditOp::kDelete ? "D" : "I";
      if (op != EditOp::kInsert) ++r;
      if (op != EditOp::kDelete) ++h;
      size_t w = std::max({width(a), width(b), size_t{1}});
      ref_line += " " + pad(a, w);
      hyp_line += " " + pad(b, w);
      eval_line += " " + pad(mark, w);
    }
    const auto& a = u.alignment;
    out += fmt::format("id: {}\n{}\n{}\n{}\nScores: (#C #S #D #I) {} {} {} {}\n\n", u.id, ref_line, hyp_line,
                       eval_line, a.matches, a.substitutions, a.deletions, a.insertions);
  }
  out += fmt::format("Sentences: {}  with errors: {}\n", sentences(), sentence_errors());
  out += fmt::format("Reference {}: {}  hypothesis {}: {}\n", unit, ref_units_, unit, hyp_units_);
  out += fmt::format("Substitutions: {}  deletions: {}  insertions: {}\n", subs_, dels_, ins_);
  out += fmt::format("{}: {:.2f} % ({} / {})\n", characters_ ? "CER" : "WER", error_rate(), errors(), ref_units_);
  auto section = [&](const char* title, const std::vector<std::pair<std::string, size_t>>& rows) {
    if (rows.empty()) return;
    out += fmt::format("\n{}\n", title);
    for (const auto& [what, count] : rows) out += fmt::format("{:6d}  {}\n", count, what);
  };
  section("Most frequent substitutions (ref -> hyp):", confusions(top));
  section("Most frequent deletions:", deleted(top));
  section("Most frequent insertions:", inserted(top));
  return out;
}

}  // namespace w2v::eval
