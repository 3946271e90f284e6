#include "eval/post_process.h"

#include <sstream>

#include "eval/scoring.h"
#include "util/error.h"

namespace w2v::eval {

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

}  // namespace

PostProcess parse_post_process(const std::string& name) {
  if (name == "letter") return PostProcess::kLetter;
  if (name == "wordpiece") return PostProcess::kWordpiece;
  if (name == "sentencepiece") return PostProcess::kSentencepiece;
  if (name == "none") return PostProcess::kNone;
  throw Error("post-process '" + name + "': expected letter, wordpiece, sentencepiece or none");
}

std::string spell_unit(const std::string& symbol, PostProcess p) {
  switch (p) {
    case PostProcess::kLetter: return replace_all(symbol, "|", " ");
    case PostProcess::kWordpiece: return replace_all(symbol, "_", " ");
    case PostProcess::kSentencepiece: return replace_all(symbol, "\u2581", " ");
    case PostProcess::kNone: return " " + symbol + " ";
  }
  throw Error("unknown post-process");
}

std::string post_process(const std::string& units, PostProcess p) {
  std::istringstream in(units);
  std::string text, unit;
  while (in >> unit) text += spell_unit(unit, p);
  std::string out;
  for (const auto& w : split_words(text)) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace w2v::eval
