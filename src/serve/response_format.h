// The response shapes of OpenAI's POST /v1/audio/transcriptions for a w2v Transcript, so that
// existing clients read w2v's answers unchanged: json, text, srt, vtt and verbose_json (with
// Whisper's segment fields), and the Server-Sent Events of stream=true. The Python module
// returns the same verbose_json object. Torch-free.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recognizer/recognizer.h"

namespace w2v::serve {

enum class ResponseFormat { kJson, kText, kSrt, kVtt, kVerboseJson };

// "json" | "text" | "srt" | "vtt" | "verbose_json"; w2v::Error naming the accepted values otherwise.
ResponseFormat parse_response_format(const std::string& name);

// What verbose_json carries: OpenAI's timestamp_granularities[] (segments by default).
struct Granularities {
  bool word = false;
  bool segment = true;
};

// A stretch of speech between pauses: words [first_word, end_word) of the transcript.
// avg_logprob is the mean log confidence of its words (w2v's stand-in for Whisper's token
// log-probabilities); tokens are the output-unit ids (rows of the emissions) spoken in it.
struct Segment {
  double start = 0, end = 0;
  std::string text;
  size_t first_word = 0, end_word = 0;
  std::vector<int> tokens;
  double avg_logprob = 0;
};

// Splits the words where the gap between two words reaches pause_seconds (the Stream's rule for
// the end of a segment). symbols: the recognizer's output units, to number the tokens.
std::vector<Segment> segments(const Transcript& t, const std::vector<std::string>& symbols, double pause_seconds);

// OpenAI's verbose_json: task, language, duration, text, segments (when requested), words (when
// requested; with w2v's confidence beside start and end), usage. Times rounded to milliseconds.
nlohmann::ordered_json verbose_json(const Transcript& t, const std::vector<std::string>& symbols,
                                    const std::string& language, const Granularities& granularities,
                                    double pause_seconds);

// The body of a non-streamed answer and its Content-Type, for json, text, srt and vtt (SRT cues
// as `w2v transcribe --format srt` groups them; VTT the same cues).
struct Rendered {
  std::string body;
  std::string content_type;
};
Rendered render(const Transcript& t, ResponseFormat format);

// One SSE event: "data: <compact json>\n\n".
std::string sse_event(const nlohmann::ordered_json& event);

// The error object of OpenAI's API: {"error": {"message", "type", "param", "code"}}.
std::string error_json(const std::string& message, const std::string& type, const std::string& param,
                       const std::string& code);

}  // namespace w2v::serve
