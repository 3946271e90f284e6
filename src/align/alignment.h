// Forced alignment of a transcript to a model's emissions: text normalisation (text.h), CTC
// Viterbi (ctc_viterbi.h), then each letter, spoken word and transcript word with its time
// span and score. Torch-free: the caller computes the emissions (Recognizer, AcousticModel).
#pragma once

#include <string>
#include <vector>

#include "align/ctc_viterbi.h"
#include "align/text.h"
#include "decode/emissions.h"

namespace w2v::align {

// Frames [start_frame, end_frame) of the path's label, end exclusive; seconds = frames ×
// frame_seconds. score = exp(mean log posterior of the label over those frames), in (0, 1];
// a word's score averages over all its letters' frames (blanks between them not counted).
struct Span {
  int start_frame = 0, end_frame = 0;
  double start = 0, end = 0;
  double score = 0;
};

struct LetterSpan : Span {
  std::string letter;
};

struct SpokenSpan : Span {
  std::string word;  // as spelled, e.g. FORTY
  std::vector<LetterSpan> letters;
};

// A transcript word as written ("42,"), over its spoken words (FORTY, TWO).
struct WordSpan : Span {
  std::string word;
  Position position;
  int first_spoken = 0, spoken_count = 0;  // its range in Alignment::spoken
};

struct Alignment {
  std::vector<WordSpan> words;
  std::vector<SpokenSpan> spoken;
  std::vector<SkippedChar> skipped;  // characters dropped under Unknown::kSkip, by position
  int frames = 0;
  double frame_seconds = 0.02;
  double score = 0;  // the path's total log posterior
};

struct AlignOptions {
  Unknown unknown = Unknown::kError;
  ViterbiOptions viterbi;
  double frame_seconds = decode::kFrameSeconds;
};

// `symbols` are the emissions' columns (the model's dictionary). transcript_name and
// audio_name name the inputs in errors: unknown characters, a transcript that does not fit.
Alignment align(const decode::Emissions& emissions, const std::vector<std::string>& symbols,
                const std::string& transcript, const std::string& transcript_name, const std::string& audio_name,
                const AlignOptions& options = {});

// The spans of an already normalised text on a path from ctc_viterbi(text.labels()).
Alignment spans(const AlignText& text, const CtcPath& path, const std::vector<std::string>& symbols,
                double frame_seconds);

}  // namespace w2v::align
