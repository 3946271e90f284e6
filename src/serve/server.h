// `w2v serve`'s HTTP server over one shared Recognizer: OpenAI's POST /v1/audio/transcriptions
// (multipart upload; json, text, srt, vtt, verbose_json; stream=true as Server-Sent Events),
// GET /health, GET /v1/models and the browser page at GET /. Every refusal is a JSON
// {"error": {...}} body: 400 malformed request or corrupt audio, 411 no Content-Length, 413 over
// the upload or audio-length limit, 415 not multipart, 503 + Retry-After when the line is full.
// docs/serving.md documents the API.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "recognizer/recognizer.h"

namespace w2v::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() returns it)
  int max_concurrency = 2;                  // transcriptions running at once
  int max_queue = 16;                       // more requests waiting for a slot; beyond: 503
  size_t max_upload_bytes = 25u << 20;      // OpenAI's 25 MB file limit
  double max_audio_seconds = 1800;          // longer audio: 413
  int timeout_seconds = 10;                 // a client silent this long while sending or reading is dropped
  std::string model_id = "w2v";             // the id /v1/models lists (any requested `model` is accepted)
  StreamOptions stream;                     // windows of stream=true answers
};

class Server {
 public:
  Server(const Recognizer& recognizer, const ServerOptions& options);
  ~Server();

  // Binds the listening socket; returns the port. w2v::Error naming host:port on failure.
  int bind();
  // Serves until stop() has closed the listening socket.
  void run();
  // Graceful shutdown, from any thread (a signal watcher): transcription requests whose upload
  // completes from now on get 503 (Retry-After, Connection: close); those already uploaded -
  // running, queued, or streaming events - finish; then the listening socket closes and run()
  // returns. Blocks until then.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace w2v::serve
