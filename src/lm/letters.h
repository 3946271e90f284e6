// Letter (character) tokens of a word, shared by token-level LM estimation and lexicon
// spelling so that both split words identically: one token per UTF-8 character, and "|" as the
// word boundary (fairseq's letter dictionary convention).
#pragma once

#include <string_view>
#include <vector>

namespace w2v::lm {

constexpr std::string_view kWordBoundary = "|";

// The UTF-8 characters of word, in order. A malformed byte is a character of its own.
std::vector<std::string_view> utf8_characters(std::string_view word);

}  // namespace w2v::lm
