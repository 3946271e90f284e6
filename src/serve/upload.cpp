#include "serve/upload.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "audio/audio.h"
#include "util/error.h"

namespace w2v::serve {

namespace {

// A file descriptor closed on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

const httplib::MultipartFormData* field(const httplib::Request& req, const std::string& name) {
  auto it = req.files.find(name);
  return it == req.files.end() ? nullptr : &it->second;
}

bool parse_bool(const std::string& name, const std::string& value) {
  if (value == "true" || value == "1" || value == "True") return true;
  if (value == "false" || value == "0" || value == "False") return false;
  throw RequestError(400, name + ": expected true or false, got '" + value + "'", name, "invalid_value");
}

// The uploaded audio of a multipart form; `purpose` completes "the audio to ...".
const httplib::MultipartFormData& audio_field(const httplib::Request& req, const std::string& purpose) {
  if (!req.is_multipart_form_data())
    throw RequestError(415,
                       "expected a multipart/form-data body with the audio in a 'file' field, got Content-Type '" +
                           req.get_header_value("Content-Type") + "'",
                       "", "unsupported_media_type");
  const auto* file = field(req, "file");
  if (!file) throw RequestError(400, "missing the 'file' field (the audio to " + purpose + ")", "file", "missing_file");
  return *file;
}

// The value of form field `name`, which must be one of `choices` (or absent: `fallback`).
std::string choice(const httplib::Request& req, const std::string& name, const std::vector<std::string>& choices,
                   const std::string& fallback) {
  const auto* f = field(req, name);
  if (!f) return fallback;
  if (std::find(choices.begin(), choices.end(), f->content) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    throw RequestError(400, fmt::format("{}: expected one of {}, got '{}'", name, list, f->content), name,
                       "invalid_value");
  }
  return f->content;
}

}  // namespace

TranscriptionRequest parse_request(const httplib::Request& req) {
  TranscriptionRequest r;
  r.file = &audio_field(req, "transcribe");
  if (const auto* f = field(req, "response_format")) {
    try {
      r.format = parse_response_format(f->content);
    } catch (const Error& e) {
      throw RequestError(400, e.what(), "response_format", "invalid_value");
    }
  }
  if (const auto* f = field(req, "stream")) r.stream = parse_bool("stream", f->content);
  if (const auto* f = field(req, "language")) r.language = f->content;
  if (const auto* f = field(req, "temperature")) {
    char* end = nullptr;
    errno = 0;
    const double t = std::strtod(f->content.c_str(), &end);
    if (f->content.empty() || *end != '\0' || errno != 0 || !(t >= 0 && t <= 1))
      throw RequestError(400, "temperature: expected a number in [0, 1], got '" + f->content + "'", "temperature",
                         "invalid_value");
  }
  // OpenAI's clients send timestamp_granularities[] once per value; the bare name is accepted too.
  bool given = false;
  Granularities g{false, false};
  for (const char* key : {"timestamp_granularities[]", "timestamp_granularities"}) {
    auto range = req.files.equal_range(key);
    for (auto it = range.first; it != range.second; ++it) {
      given = true;
      const auto& v = it->second.content;
      if (v == "word") g.word = true;
      else if (v == "segment") g.segment = true;
      else
        throw RequestError(400, "timestamp_granularities[]: expected word or segment, got '" + v + "'",
                           "timestamp_granularities[]", "invalid_value");
    }
  }
  if (given) r.granularities = g;
  return r;
}

AlignmentRequest parse_alignment_request(const httplib::Request& req) {
  AlignmentRequest r;
  r.file = &audio_field(req, "align");
  const auto* text = field(req, "text");
  if (!text || text->content.find_first_not_of(" \t\r\n") == std::string::npos)
    throw RequestError(400, "missing the 'text' field (the transcript to put on the audio)", "text", "missing_text");
  r.text = text->content;
  const std::string format = choice(req, "response_format", {"json", "srt", "vtt", "ctm", "textgrid"}, "json");
  r.format = format == "srt"        ? AlignFormat::kSrt
             : format == "vtt"      ? AlignFormat::kVtt
             : format == "ctm"      ? AlignFormat::kCtm
             : format == "textgrid" ? AlignFormat::kTextGrid
                                    : AlignFormat::kJson;
  r.line_cues = choice(req, "cue", {"word", "line"}, "word") == "line";
  r.unknown = choice(req, "unknown", {"error", "skip"}, "error") == "skip" ? align::Unknown::kSkip : align::Unknown::kError;
  return r;
}

std::vector<float> decode_upload(const httplib::MultipartFormData& file, double max_seconds) {
  const std::string name = file.filename.empty() ? std::string("file") : file.filename;
  // libsndfile reads paths; an anonymous in-memory file gives it one without touching the disk.
  Fd fd{::memfd_create("w2v-upload", MFD_CLOEXEC)};
  if (fd.fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  for (size_t done = 0; done < file.content.size();) {
    const ssize_t n = ::write(fd.fd, file.content.data() + done, file.content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("writing the upload to memory: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd.fd);
  // audio's errors name the path; the client knows its file by the name it uploaded.
  auto invalid = [&](const Error& e) {
    std::string message = e.what();
    for (size_t pos; (pos = message.find(path)) != std::string::npos;) message.replace(pos, path.size(), name);
    return RequestError(400, "could not read the uploaded audio: " + message, "file", "invalid_audio");
  };
  try {
    const auto info = audio::info(path);
    const double seconds = static_cast<double>(info.frames) / info.sample_rate;
    if (seconds > max_seconds)
      throw RequestError(413, fmt::format("{}: {:.1f} s of audio, over the server's limit of {:g} s", name, seconds,
                                          max_seconds),
                         "file", "audio_too_long");
    audio::ReadOptions options;
    options.resample = true;
    return audio::read(path, options);
  } catch (const Error& e) {
    throw invalid(e);
  }
}

}  // namespace w2v::serve
