#include "align/alignment.h"

#include <fmt/core.h>

#include <cmath>

#include "decode/tokens.h"
#include "util/error.h"

namespace w2v::align {

namespace {

// Log-posterior sum and frame count of a span, to average over several spans.
struct Mass {
  double sum = 0;
  int frames = 0;
  void add(const Mass& m) { sum += m.sum, frames += m.frames; }
};

void set_frames(Span& s, int start_frame, int end_frame, const Mass& m, double frame_seconds) {
  s.start_frame = start_frame;
  s.end_frame = end_frame;
  s.start = start_frame * frame_seconds;
  s.end = end_frame * frame_seconds;
  s.score = m.frames > 0 ? std::exp(m.sum / m.frames) : 0.0;
}

}  // namespace

Alignment spans(const AlignText& text, const CtcPath& path, const std::vector<std::string>& symbols,
                double frame_seconds) {
  Alignment out;
  out.frames = static_cast<int>(path.states.size());
  out.frame_seconds = frame_seconds;
  out.score = path.score;
  out.skipped = text.skipped;
  // Label index -> its first/last frame and mass (every label gets at least one frame).
  const std::vector<int> labels = text.labels();
  std::vector<int> first(labels.size(), -1), last(labels.size(), -1);
  std::vector<Mass> mass(labels.size());
  for (int t = 0; t < out.frames; ++t) {
    const int s = path.states[t];
    if (s % 2 == 0) continue;
    const int k = s / 2;
    if (first[k] < 0) first[k] = t;
    last[k] = t;
    mass[k].sum += path.log_posteriors[t];
    ++mass[k].frames;
  }
  size_t k = 0;  // label index
  std::vector<Mass> spoken_mass;
  for (size_t w = 0; w < text.spoken.size(); ++w) {
    if (w > 0 && text.separator >= 0) ++k;
    const SpokenWord& sw = text.spoken[w];
    SpokenSpan span;
    span.word = sw.text;
    Mass total;
    for (int token : sw.tokens) {
      LetterSpan letter;
      letter.letter = symbols.at(token);
      set_frames(letter, first[k], last[k] + 1, mass[k], frame_seconds);
      total.add(mass[k]);
      span.letters.push_back(std::move(letter));
      ++k;
    }
    set_frames(span, span.letters.front().start_frame, span.letters.back().end_frame, total, frame_seconds);
    out.spoken.push_back(std::move(span));
    spoken_mass.push_back(total);
  }
  for (size_t w = 0; w < text.spoken.size();) {
    const int source = text.spoken[w].source;
    WordSpan word;
    word.word = text.source.at(source).text;
    word.position = text.source[source].position;
    word.first_spoken = static_cast<int>(w);
    Mass total;
    for (; w < text.spoken.size() && text.spoken[w].source == source; ++w) total.add(spoken_mass[w]);
    word.spoken_count = static_cast<int>(w) - word.first_spoken;
    set_frames(word, out.spoken[word.first_spoken].start_frame, out.spoken[w - 1].end_frame, total, frame_seconds);
    out.words.push_back(std::move(word));
  }
  return out;
}

Alignment align(const decode::Emissions& emissions, const std::vector<std::string>& symbols,
                const std::string& transcript, const std::string& transcript_name, const std::string& audio_name,
                const AlignOptions& options) {
  if (static_cast<int>(symbols.size()) != emissions.vocab)
    throw Error(fmt::format("alignment: {} dictionary symbols for emissions of {} columns", symbols.size(),
                            emissions.vocab));
  const AlignText text = normalize(transcript, symbols, transcript_name, options.unknown);
  const std::vector<int> labels = text.labels();
  const int needed = min_frames(labels);
  if (needed > emissions.frames)
    throw file_error(transcript_name, 0,
                     fmt::format("does not fit {}: {} letters and word separators need at least {} frames "
                                 "({:.2f} s, a blank between repeated letters), the audio has {} ({:.2f} s)",
                                 audio_name, labels.size(), needed, needed * options.frame_seconds, emissions.frames,
                                 emissions.frames * options.frame_seconds));
  const int blank = decode::TokenSet(symbols).blank();
  return spans(text, ctc_viterbi(emissions, labels, blank, options.viterbi), symbols, options.frame_seconds);
}

}  // namespace w2v::align
