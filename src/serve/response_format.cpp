#include "serve/response_format.h"

#include <zlib.h>

#include <cmath>
#include <unordered_map>

#include "decode/transcript_format.h"
#include "util/error.h"

namespace w2v::serve {

namespace {

double ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

// Whisper's compression_ratio: text bytes over their zlib-compressed bytes (default level, as
// Python's zlib.compress); repetitive hallucinated text compresses well.
double compression_ratio(const std::string& text) {
  if (text.empty()) return 0;
  uLongf size = compressBound(text.size());
  std::vector<Bytef> out(size);
  if (compress2(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()), text.size(), Z_DEFAULT_COMPRESSION) !=
      Z_OK)
    return 0;
  return static_cast<double>(text.size()) / static_cast<double>(size);
}

// WebVTT is SRT with a header and '.' before the milliseconds; cue numbers are valid cue ids.
std::string srt_to_vtt(const std::string& srt) {
  std::string out = "WEBVTT\n\n";
  size_t pos = 0;
  while (pos < srt.size()) {
    size_t eol = srt.find('\n', pos);
    if (eol == std::string::npos) eol = srt.size();
    std::string line = srt.substr(pos, eol - pos);
    if (line.find(" --> ") != std::string::npos)
      for (auto& c : line)
        if (c == ',') c = '.';
    out += line + "\n";
    pos = eol + 1;
  }
  return out;
}

}  // namespace

ResponseFormat parse_response_format(const std::string& name) {
  if (name == "json") return ResponseFormat::kJson;
  if (name == "text") return ResponseFormat::kText;
  if (name == "srt") return ResponseFormat::kSrt;
  if (name == "vtt") return ResponseFormat::kVtt;
  if (name == "verbose_json") return ResponseFormat::kVerboseJson;
  throw Error("response_format: expected json, text, srt, vtt or verbose_json, got '" + name + "'");
}

std::vector<Segment> segments(const Transcript& t, const std::vector<std::string>& symbols, double pause_seconds) {
  std::unordered_map<std::string, int> id;
  for (size_t i = 0; i < symbols.size(); ++i) id.emplace(symbols[i], static_cast<int>(i));
  std::vector<Segment> out;
  const auto& w = t.words;
  for (size_t i = 0; i < w.size();) {
    size_t j = i + 1;
    while (j < w.size() && w[j].start - w[j - 1].end < pause_seconds) ++j;
    Segment s;
    s.first_word = i;
    s.end_word = j;
    s.start = w[i].start;
    s.end = w[j - 1].end;
    double logprob = 0;
    for (size_t k = i; k < j; ++k) {
      s.text += (k > i ? " " : "") + w[k].word;
      logprob += std::log(std::max(w[k].confidence, 1e-30));
    }
    s.avg_logprob = logprob / static_cast<double>(j - i);
    // A token belongs to the segment whose time span holds its first frame; the separator after
    // the segment's last word (a pause) is left out.
    for (const auto& tok : t.tokens) {
      if (tok.time < s.start || tok.time >= s.end) continue;
      auto it = id.find(tok.token);
      if (it != id.end()) s.tokens.push_back(it->second);
    }
    out.push_back(std::move(s));
    i = j;
  }
  return out;
}

nlohmann::ordered_json verbose_json(const Transcript& t, const std::vector<std::string>& symbols,
                                    const std::string& language, const Granularities& granularities,
                                    double pause_seconds) {
  nlohmann::ordered_json out = {{"task", "transcribe"},
                                {"language", language},
                                {"duration", ms(t.duration)},
                                {"text", t.text}};
  if (granularities.segment) {
    auto segs = nlohmann::ordered_json::array();
    int id = 0;
    for (const auto& s : segments(t, symbols, pause_seconds))
      segs.push_back({{"id", id++},
                      {"seek", std::lround(s.start * 100)},  // Whisper's seek: centiseconds (mel frames)
                      {"start", ms(s.start)},
                      {"end", ms(s.end)},
                      {"text", s.text},
                      {"tokens", s.tokens},
                      {"temperature", 0.0},
                      {"avg_logprob", std::round(s.avg_logprob * 1e4) / 1e4},
                      {"compression_ratio", std::round(compression_ratio(s.text) * 1e4) / 1e4},
                      {"no_speech_prob", 0.0}});
    out["segments"] = std::move(segs);
  }
  if (granularities.word) {
    auto words = nlohmann::ordered_json::array();
    for (const auto& w : t.words)
      words.push_back({{"word", w.word}, {"start", ms(w.start)}, {"end", ms(w.end)}, {"confidence", ms(w.confidence)}});
    out["words"] = std::move(words);
  }
  out["usage"] = {{"type", "duration"}, {"seconds", static_cast<long>(std::ceil(t.duration))}};
  return out;
}

Rendered render(const Transcript& t, ResponseFormat format) {
  switch (format) {
    case ResponseFormat::kText:
      return {t.text + "\n", "text/plain; charset=utf-8"};
    case ResponseFormat::kSrt:
    case ResponseFormat::kVtt: {
      std::vector<decode::WordSpan> spans;
      for (const auto& w : t.words) {
        decode::WordSpan s;
        s.word = w.word;
        s.start = w.start;
        s.end = w.end;
        s.confidence = w.confidence;
        spans.push_back(std::move(s));
      }
      const std::string srt = decode::to_srt(spans);
      if (format == ResponseFormat::kSrt) return {srt, "text/plain; charset=utf-8"};
      return {srt_to_vtt(srt), "text/vtt; charset=utf-8"};
    }
    case ResponseFormat::kJson:
    case ResponseFormat::kVerboseJson:
      break;
  }
  return {nlohmann::ordered_json{{"text", t.text}}.dump(), "application/json"};
}

std::string sse_event(const nlohmann::ordered_json& event) { return "data: " + event.dump() + "\n\n"; }

std::string error_json(const std::string& message, const std::string& type, const std::string& param,
                       const std::string& code) {
  nlohmann::ordered_json e = {{"message", message}, {"type", type}};
  e["param"] = param.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(param);
  e["code"] = code.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(code);
  return nlohmann::ordered_json{{"error", e}}.dump();
}

}  // namespace w2v::serve
