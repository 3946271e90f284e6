// Alignments as files people use: JSON (words, spoken words and letters with times and
// scores), SRT and WebVTT subtitles (a cue per word or per transcript line), Kaldi CTM and
// Praat TextGrid. Times in seconds; JSON rounds to milliseconds.
#pragma once

#include <string>
#include <vector>

#include "align/alignment.h"

namespace w2v::align {

struct FileAlignment {
  std::string audio;       // path of the audio file
  std::string transcript;  // its transcript's file, or "" when given as text
  double duration = 0;     // seconds of audio
  Alignment alignment;
};

// {"files": [{"audio", "transcript", "duration", "score", "words": [{"word", "start", "end",
// "score", "line", "column", "spoken": [{"word", "start", "end", "score", "letters":
// [{"letter", "start", "end", "score"}]}]}], "skipped": [{"line", "column", "character"}]}]}
std::string to_json(const std::vector<FileAlignment>& files);

enum class Cue { kWord, kLine };  // one subtitle per transcript word, or per transcript line
std::string to_srt(const Alignment& a, Cue cue);
std::string to_vtt(const Alignment& a, Cue cue);

// Kaldi CTM: "<utterance> 1 <start> <duration> <spoken word> <score>" per spoken word; the
// utterance is the audio file's stem.
std::string to_ctm(const std::vector<FileAlignment>& files);

// Praat TextGrid (long text format): interval tiers "words" (transcript words) and "letters",
// each covering [0, duration] with empty intervals in the gaps.
std::string to_textgrid(const FileAlignment& file);

}  // namespace w2v::align
