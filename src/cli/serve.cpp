// w2v serve: an HTTP server over one loaded Recognizer (OpenAI-compatible transcription API,
// streaming, a browser page; see serve/server.h and docs/serving.md). SIGINT and SIGTERM shut it
// down gracefully: no new work, in-flight requests finish, exit 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/core.h>

#include "cli/command.h"
#include "cli/model_commands.h"
#include "cli/decode_options.h"
#include "recognizer/recognizer.h"
#include "serve/server.h"

namespace {

struct ServeOptions {
  w2v::RecognizerOptions recognizer;
  w2v::serve::ServerOptions server;
  double max_upload_mb = 25;
};

int run_serve(ServeOptions o) {
  using namespace w2v;
  // Block the shutdown signals in every thread (threads inherit the mask, so this comes before
  // the model's and the server's threads start); one thread below waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  o.server.max_upload_bytes = static_cast<size_t>(o.max_upload_mb * (1 << 20));
  if (o.server.model_id.empty())
    o.server.model_id = std::filesystem::path(o.recognizer.model).filename().replace_extension().string();

  Recognizer recognizer(o.recognizer);
  serve::Server server(recognizer, o.server);
  const int port = server.bind();
  // Tests and scripts read the port from this line (with --port 0 the kernel picks it).
  fmt::print(stderr, "w2v serve: listening on http://{}:{} (model {}, {} decoder)\n", o.server.host, port,
             o.server.model_id, decode::chosen_decoder(o.recognizer.decoding));

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!finished) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        fmt::print(stderr, "w2v serve: {}: finishing requests in flight, then exiting\n",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
        server.stop();
        return;
      }
    }
  });
  server.run();
  finished = true;
  watcher.join();
  fmt::print(stderr, "w2v serve: stopped\n");
  return 0;
}

W2V_COMMAND("serve", std::string(w2v::cli::model_command_description("serve")), [](CLI::App& sub) {
  auto o = std::make_shared<ServeOptions>();
  auto& s = o->server;
  sub.add_option("MODEL", o->recognizer.model, "fine-tuned CTC model (w2v or fairseq .pt, HuggingFace directory)")
      ->required();
  sub.add_option("--dict", o->recognizer.dict, "dict.ltr.txt of the model (when not stored with it)");
  w2v::cli::add_decoder_options(sub, o->recognizer.decoding);
  sub.add_option("--host", s.host, "address to listen on")->capture_default_str();
  sub.add_option("--port", s.port, "TCP port (0: any free one, printed at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub.add_option("--threads", o->recognizer.threads, "LibTorch threads shared by all requests (0: all cores)")
      ->capture_default_str();
  w2v::cli::add_precision_option(sub, o->recognizer.precision);
  sub.add_option("--max-concurrency", s.max_concurrency, "transcriptions running at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-queue", s.max_queue, "requests waiting for a slot; beyond them: 503 + Retry-After")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--max-upload-mb", o->max_upload_mb, "largest upload (MiB); larger: 413")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-audio-seconds", s.max_audio_seconds, "longest audio; longer: 413")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--timeout", s.timeout_seconds, "seconds a client may stall while sending or reading")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--model-id", s.model_id, "id listed by /v1/models (default: the model's file name)");
  sub.add_option("--chunk-seconds", o->recognizer.chunk_seconds, "model window core length")->capture_default_str();
  sub.add_option("--overlap-seconds", o->recognizer.overlap_seconds, "context added to each window side")
      ->capture_default_str();
  s.model_id.clear();
  return [o] { return run_serve(*o); };
});

}  // namespace
