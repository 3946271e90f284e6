#include "decode/transcript_format.h"

#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace w2v::decode {

namespace {

double ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

std::string srt_time(double seconds) {
  long total = std::lround(seconds * 1000.0);
  return fmt::format("{:02d}:{:02d}:{:02d},{:03d}", total / 3600000, total / 60000 % 60, total / 1000 % 60, total % 1000);
}

}  // namespace

std::string backslash_escape(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    // Length of a valid sequence starting here (0: invalid), per RFC 3629 (no overlongs,
    // surrogates or code points above U+10FFFF).
    size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (n > 1) {
      if (i + n > s.size()) n = 0;
      for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) n = 0;
      if (n > 0) {
        const auto c1 = static_cast<unsigned char>(s[i + 1]);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
          n = 0;
      }
    }
    if (n == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string to_json(const std::vector<FileTranscript>& files) {
  nlohmann::ordered_json out = {{"files", nlohmann::ordered_json::array()}};
  for (const auto& f : files) {
    nlohmann::ordered_json words = nlohmann::ordered_json::array();
    for (const auto& w : f.result.words)
      words.push_back({{"word", backslash_escape(w.word)}, {"start", ms(w.start)}, {"end", ms(w.end)}, {"confidence", ms(w.confidence)}});
    out["files"].push_back({{"path", backslash_escape(f.path)},
                            {"duration", ms(f.duration)},
                            {"text", backslash_escape(f.result.text())},
                            {"score", f.result.score},
                            {"words", words}});
  }
  return out.dump(2) + "\n";
}

std::string to_srt(const std::vector<WordSpan>& words, const SrtOptions& options) {
  std::string out;
  int cue = 0;
  for (size_t i = 0; i < words.size();) {
    size_t j = i + 1;
    while (j < words.size() && static_cast<int>(j - i) < options.max_words &&
           words[j].end - words[i].start <= options.max_seconds && words[j].start - words[j - 1].end < options.max_gap)
      ++j;
    std::string text;
    for (size_t k = i; k < j; ++k) text += (k > i ? " " : "") + words[k].word;
    out += fmt::format("{}\n{} --> {}\n{}\n\n", ++cue, srt_time(words[i].start), srt_time(words[j - 1].end), text);
    i = j;
  }
  return out;
}

}  // namespace w2v::decode
