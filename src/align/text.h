// A transcript turned into what a CTC model can spell, by the rule documented in
// docs/alignment.md ("Text normalisation"): words are split at whitespace; each character is
// case-mapped to the dictionary's case and kept when the dictionary has it; otherwise digits
// become number words, Latin-1 letters with diacritics fold to their base letters, hyphens,
// dashes and slashes split a word, punctuation is removed, and anything else is an unknown
// character - an error listing every position, or (Unknown::kSkip) dropped and listed.
#pragma once

#include <string>
#include <vector>

namespace w2v::align {

// 1-based line and column (in characters) of the transcript.
struct Position {
  int line = 0, column = 0;
};

// A whitespace-separated word as written (punctuation and case kept: subtitles show these).
struct SourceWord {
  std::string text;
  Position position;
};

// A word as the model spells it (e.g. "42" gives FORTY and TWO): dictionary indices of its
// letters, and the SourceWord it comes from.
struct SpokenWord {
  std::string text;
  int source = 0;
  std::vector<int> tokens;
};

struct SkippedChar {
  Position position;
  std::string character;  // UTF-8
};

enum class Unknown { kError, kSkip };

struct AlignText {
  std::vector<SourceWord> source;
  std::vector<SpokenWord> spoken;    // in order; at least one
  std::vector<SkippedChar> skipped;  // unknown characters dropped under Unknown::kSkip
  int separator = -1;                // word-boundary token ("|" or "<sep>"), -1 when the dictionary has none

  // The CTC label sequence: the spoken words' tokens with the separator between words.
  std::vector<int> labels() const;
};

// `symbols` is the model's dictionary (blank, specials, separator and one-character letters);
// `name` (the transcript's file, or "transcript") begins every error. A source word left with
// no letters (e.g. "--") is joined to the word before it ("Hello --"), or to the next one when
// it comes first, so that every SourceWord has at least one SpokenWord.
AlignText normalize(const std::string& text, const std::vector<std::string>& symbols, const std::string& name,
                    Unknown unknown = Unknown::kError);

}  // namespace w2v::align
