// Transcripts with word times as files people use: JSON (every word with start, end and
// confidence) and SRT subtitles (words grouped into cues).
#pragma once

#include <string>
#include <vector>

#include "decode/result.h"

namespace w2v::decode {

struct FileTranscript {
  std::string path;
  double duration = 0;  // seconds of audio
  DecodeResult result;
};

// {"files": [{"path", "duration", "text", "score", "words": [{"word", "start", "end",
// "confidence"}]}]}, times in seconds rounded to milliseconds. Strings that are not valid UTF-8
// (file names are bytes) get each stray byte written as the text \xNN (backslash_escape).
std::string to_json(const std::vector<FileTranscript>& files);

// s with every byte that is not part of a valid UTF-8 sequence replaced by "\xNN" (Python's
// backslashreplace), so it can go into JSON; valid UTF-8 comes back unchanged.
std::string backslash_escape(const std::string& s);

// Cues of consecutive words: a new cue starts when the current one holds max_words words, would
// last longer than max_seconds, or the pause before the next word reaches max_gap seconds.
struct SrtOptions {
  int max_words = 12;
  double max_seconds = 6.0;
  double max_gap = 1.0;
};
std::string to_srt(const std::vector<WordSpan>& words, const SrtOptions& options = {});

}  // namespace w2v::decode
