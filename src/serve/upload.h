// The request side of POST /v1/audio/transcriptions and /v1/audio/alignments: the multipart
// form's fields checked and typed, and the uploaded file decoded to 16 kHz samples. Each problem is a RequestError that
// the server answers with its status and OpenAI's error object.
#pragma once

#include <httplib.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "align/text.h"
#include "serve/response_format.h"

namespace w2v::serve {

struct RequestError : std::runtime_error {
  RequestError(int status, const std::string& message, const std::string& param, const std::string& code,
               const std::string& type = "invalid_request_error")
      : std::runtime_error(message), status(status), param(param), code(code), type(type) {}
  int status;
  std::string param, code, type;
};

// OpenAI's form fields. `model`, `prompt` and any unknown field are accepted and ignored (clients
// send them by habit); `temperature` must be a number in [0, 1] and is ignored (CTC decoding has
// no sampling).
struct TranscriptionRequest {
  const httplib::MultipartFormData* file = nullptr;
  ResponseFormat format = ResponseFormat::kJson;
  Granularities granularities;
  bool stream = false;
  std::string language;
};

// 415 when the body is not multipart/form-data, 400 for a missing file or a bad field value.
TranscriptionRequest parse_request(const httplib::Request& req);

// w2v's alignment endpoint (docs/serving.md): `file` and its transcript `text` (required), and
// as `w2v align` takes them: response_format json | srt | vtt | ctm | textgrid (default json),
// cue word | line (subtitles), unknown error | skip (characters the model cannot spell).
enum class AlignFormat { kJson, kSrt, kVtt, kCtm, kTextGrid };
struct AlignmentRequest {
  const httplib::MultipartFormData* file = nullptr;
  std::string text;
  AlignFormat format = AlignFormat::kJson;
  bool line_cues = false;
  align::Unknown unknown = align::Unknown::kError;
};
// Errors as parse_request's.
AlignmentRequest parse_alignment_request(const httplib::Request& req);

// The upload as 16 kHz mono samples (any rate and format libsndfile reads, resampled). 400 when
// it is not audio (the message names the uploaded file name), 413 when it lasts longer than
// max_seconds (checked on the header before decoding).
std::vector<float> decode_upload(const httplib::MultipartFormData& file, double max_seconds);

}  // namespace w2v::serve
