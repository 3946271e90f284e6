#include "align/formats.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace w2v::align {

namespace {

double ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

template <class S>
void add_span(nlohmann::ordered_json& j, const S& s) {
  j["start"] = ms(s.start);
  j["end"] = ms(s.end);
  j["score"] = ms(s.score);
}

struct CueText {
  double start, end;
  std::string text;
};

std::vector<CueText> cues(const Alignment& a, Cue cue) {
  std::vector<CueText> out;
  int line = -1;
  for (const auto& w : a.words) {
    if (cue == Cue::kLine && w.position.line == line) {
      out.back().end = w.end;
      out.back().text += " " + w.word;
    } else {
      out.push_back({w.start, w.end, w.word});
    }
    line = w.position.line;
  }
  return out;
}

// hh:mm:ss + separator + mmm (',' for SRT, '.' for WebVTT).
std::string cue_time(double seconds, char separator) {
  const long total = std::lround(seconds * 1000.0);
  return fmt::format("{:02d}:{:02d}:{:02d}{}{:03d}", total / 3600000, total / 60000 % 60, total / 1000 % 60, separator,
                     total % 1000);
}

// TextGrid strings double their quotes.
std::string praat_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct Interval {
  double start, end;
  std::string text;
};

std::string tier(const std::string& name, const std::vector<Interval>& spans, double duration) {
  std::vector<Interval> filled;
  double at = 0;
  for (const auto& s : spans) {
    if (s.start > at) filled.push_back({at, s.start, ""});
    filled.push_back(s);
    at = s.end;
  }
  if (duration > at) filled.push_back({at, duration, ""});
  std::string out = fmt::format(
      "        class = \"IntervalTier\"\n        name = {}\n        xmin = 0\n        xmax = {}\n"
      "        intervals: size = {}\n",
      praat_string(name), ms(duration), filled.size());
  for (size_t i = 0; i < filled.size(); ++i)
    out += fmt::format("        intervals [{}]:\n            xmin = {}\n            xmax = {}\n            text = {}\n",
                       i + 1, ms(filled[i].start), ms(filled[i].end), praat_string(filled[i].text));
  return out;
}

}  // namespace

std::string to_json(const std::vector<FileAlignment>& files) {
  nlohmann::ordered_json out = {{"files", nlohmann::ordered_json::array()}};
  for (const auto& f : files) {
    const Alignment& a = f.alignment;
    nlohmann::ordered_json words = nlohmann::ordered_json::array();
    for (const auto& w : a.words) {
      nlohmann::ordered_json word = {{"word", w.word}};
      add_span(word, w);
      word["line"] = w.position.line;
      word["column"] = w.position.column;
      word["spoken"] = nlohmann::ordered_json::array();
      for (int k = w.first_spoken; k < w.first_spoken + w.spoken_count; ++k) {
        const SpokenSpan& sp = a.spoken[k];
        nlohmann::ordered_json spoken = {{"word", sp.word}};
        add_span(spoken, sp);
        spoken["letters"] = nlohmann::ordered_json::array();
        for (const auto& l : sp.letters) {
          nlohmann::ordered_json letter = {{"letter", l.letter}};
          add_span(letter, l);
          spoken["letters"].push_back(std::move(letter));
        }
        word["spoken"].push_back(std::move(spoken));
      }
      words.push_back(std::move(word));
    }
    nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
    for (const auto& s : a.skipped)
      skipped.push_back({{"line", s.position.line}, {"column", s.position.column}, {"character", s.character}});
    out["files"].push_back({{"audio", f.audio},
                            {"transcript", f.transcript},
                            {"duration", ms(f.duration)},
                            {"score", a.score},
                            {"words", std::move(words)},
                            {"skipped", std::move(skipped)}});
  }
  return out.dump(2) + "\n";
}

std::string to_srt(const Alignment& a, Cue cue) {
  std::string out;
  int n = 0;
  for (const auto& c : cues(a, cue))
    out += fmt::format("{}\n{} --> {}\n{}\n\n", ++n, cue_time(c.start, ','), cue_time(c.end, ','), c.text);
  return out;
}

std::string to_vtt(const Alignment& a, Cue cue) {
  std::string out = "WEBVTT\n\n";
  for (const auto& c : cues(a, cue))
    out += fmt::format("{} --> {}\n{}\n\n", cue_time(c.start, '.'), cue_time(c.end, '.'), c.text);
  return out;
}

std::string to_ctm(const std::vector<FileAlignment>& files) {
  std::string out;
  for (const auto& f : files) {
    const std::string utterance = std::filesystem::path(f.audio).stem().string();
    for (const auto& s : f.alignment.spoken)
      out += fmt::format("{} 1 {:.2f} {:.2f} {} {:.2f}\n", utterance, s.start, s.end - s.start, s.word, s.score);
  }
  return out;
}

std::string to_textgrid(const FileAlignment& f) {
  const Alignment& a = f.alignment;
  const double duration = std::max(f.duration, a.frames * a.frame_seconds);
  std::vector<Interval> words, letters;
  for (const auto& w : a.words) words.push_back({w.start, w.end, w.word});
  for (const auto& s : a.spoken)
    for (const auto& l : s.letters) letters.push_back({l.start, l.end, l.letter});
  return fmt::format("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = {}\ntiers? <exists>\n"
                     "size = 2\nitem []:\n    item [1]:\n{}    item [2]:\n{}",
                     ms(duration), tier("words", words, duration), tier("letters", letters, duration));
}

}  // namespace w2v::align
