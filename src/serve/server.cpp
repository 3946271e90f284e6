#include "serve/server.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <fmt/core.h>

#include "align/formats.h"
#include "audio/audio.h"
#include "serve/admission.h"
#include "serve/page.h"
#include "serve/upload.h"
#include "util/error.h"

namespace w2v::serve {

namespace {

using json = nlohmann::ordered_json;

void send_error(httplib::Response& res, const RequestError& e) {
  res.status = e.status;
  res.set_content(error_json(e.what(), e.type, e.param, e.code), "application/json");
}

// Appends a transcript of a later stretch of the same audio (a Stream's segment) to `all`.
void append(Transcript& all, const Transcript& part) {
  if (part.text.empty()) return;
  all.text += (all.text.empty() ? "" : " ") + part.text;
  all.words.insert(all.words.end(), part.words.begin(), part.words.end());
  all.tokens.insert(all.tokens.end(), part.tokens.begin(), part.tokens.end());
}

}  // namespace

struct Server::Impl {
  Impl(const Recognizer& r, const ServerOptions& o) : recognizer(r), options(o), admission(o.max_concurrency, o.max_queue) {}

  const Recognizer& recognizer;
  ServerOptions options;
  Admission admission;
  httplib::Server http;

  // Requests past their handler's start and not yet answered in full (a stream's events
  // included): shutdown waits for them.
  std::mutex mu;
  std::condition_variable idle;
  int active = 0;
  bool draining = false;

  // Counts one request as active for its lifetime (moved into a stream's provider).
  struct Active {
    explicit Active(Impl* s) : s(s) {
      std::lock_guard<std::mutex> lock(s->mu);
      ++s->active;
    }
    ~Active() {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        --s->active;
      }
      s->idle.notify_all();
    }
    Impl* s;
  };

  void routes();
  // A 503 RequestError once shutdown began (requests in flight still finish).
  void refuse_if_draining(httplib::Response& res);
  // A place among the running requests, or a 503 RequestError when the queue is full.
  std::shared_ptr<Admission::Ticket> admit(httplib::Response& res);
  void transcribe(const httplib::Request& req, httplib::Response& res);
  void align(const httplib::Request& req, httplib::Response& res);
  void stream(const TranscriptionRequest& r, std::vector<float> samples, std::shared_ptr<Active> active,
              std::shared_ptr<Admission::Ticket> ticket, httplib::Response& res);
  json verbose(const Transcript& t, const TranscriptionRequest& r) const {
    return verbose_json(t, recognizer.symbols(), r.language.empty() ? "unknown" : r.language, r.granularities,
                        options.stream.pause_seconds);
  }
};

void Server::Impl::routes() {
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(page_html(), "text/html; charset=utf-8"); });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    json h = {{"status", "ok"},
              {"model", options.model_id},
              {"running", admission.running()},
              {"queued", admission.waiting()},
              {"max_concurrency", admission.max_running()},
              {"max_queue", admission.max_waiting()}};
    res.set_content(h.dump(), "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"object", "list"},
              {"data", json::array({{{"id", options.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "w2v"}}})}};
    res.set_content(m.dump(), "application/json");
  });
  http.Post("/v1/audio/transcriptions",
            [this](const httplib::Request& req, httplib::Response& res) { transcribe(req, res); });
  http.Post("/v1/audio/alignments", [this](const httplib::Request& req, httplib::Response& res) { align(req, res); });

  // httplib bounds a body by Content-Length only; a chunked or unterminated body could grow
  // without limit, so uploads must say their length.
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && (!req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))) {
      send_error(res, RequestError(411, "a POST needs a Content-Length header (chunked uploads are not accepted)", "",
                                   "length_required"));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Refusals httplib makes itself (unknown path, over-long body, unparsable request) get the
  // same JSON error body as the handlers' own.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = fmt::format("{} {}: malformed request (HTTP {})", req.method, req.path, res.status);
    std::string code = "http_" + std::to_string(res.status);
    if (res.status == 413) {
      message = fmt::format("upload larger than the server's limit of {} bytes", options.max_upload_bytes);
      code = "file_too_large";
    } else if (res.status == 404) {
      message = fmt::format("no such endpoint: {} {}", req.method, req.path);
      code = "not_found";
    }
    send_error(res, RequestError(res.status, message, "", code));
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    send_error(res, RequestError(500, message, "", "internal_error", "server_error"));
  });
}

std::shared_ptr<Admission::Ticket> Server::Impl::admit(httplib::Response& res) {
  std::shared_ptr<Admission::Ticket> ticket = admission.enter();
  if (!ticket) {
    res.set_header("Retry-After", std::to_string(admission.retry_after_seconds()));
    throw RequestError(503,
                       fmt::format("server busy: {} requests running and {} waiting; retry later",
                                   admission.max_running(), admission.max_waiting()),
                       "", "queue_full", "server_error");
  }
  return ticket;
}

void Server::Impl::refuse_if_draining(httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mu);
  if (draining) {
    res.set_header("Retry-After", "1");
    res.set_header("Connection", "close");
    throw RequestError(503, "the server is shutting down", "", "shutting_down", "server_error");
  }
}

void Server::Impl::transcribe(const httplib::Request& req, httplib::Response& res) {
  auto active = std::make_shared<Active>(this);
  try {
    refuse_if_draining(res);
    const TranscriptionRequest r = parse_request(req);
    std::vector<float> samples = decode_upload(*r.file, options.max_audio_seconds);
    std::shared_ptr<Admission::Ticket> ticket = admit(res);
    if (r.stream) return stream(r, std::move(samples), std::move(active), std::move(ticket), res);
    const Transcript t = recognizer.transcribe(samples.data(), samples.size(), audio::kSampleRate);
    if (r.format == ResponseFormat::kVerboseJson) {
      res.set_content(verbose(t, r).dump(), "application/json");
    } else {
      auto out = render(t, r.format);
      res.set_content(out.body, out.content_type);
    }
  } catch (const RequestError& e) {
    send_error(res, e);
  } catch (const Error& e) {
    send_error(res, RequestError(500, e.what(), "", "transcription_failed", "server_error"));
  }
}

void Server::Impl::align(const httplib::Request& req, httplib::Response& res) {
  Active active(this);
  try {
    refuse_if_draining(res);
    const AlignmentRequest r = parse_alignment_request(req);
    const std::vector<float> samples = decode_upload(*r.file, options.max_audio_seconds);
    const auto ticket = admit(res);
    align::FileAlignment file;
    file.audio = r.file->filename.empty() ? "file" : r.file->filename;
    file.duration = static_cast<double>(samples.size()) / audio::kSampleRate;
    align::AlignOptions o;
    o.unknown = r.unknown;
    try {
      file.alignment = recognizer.align(samples.data(), samples.size(), audio::kSampleRate, r.text, o, "text");
    } catch (const Error& e) {  // characters the model cannot spell, a text longer than the audio
      throw RequestError(400, e.what(), "text", "alignment_failed");
    }
    const align::Cue cue = r.line_cues ? align::Cue::kLine : align::Cue::kWord;
    switch (r.format) {
      case AlignFormat::kJson: res.set_content(align::to_json({file}), "application/json"); break;
      case AlignFormat::kSrt: res.set_content(align::to_srt(file.alignment, cue), "text/plain; charset=utf-8"); break;
      case AlignFormat::kVtt: res.set_content(align::to_vtt(file.alignment, cue), "text/vtt; charset=utf-8"); break;
      case AlignFormat::kCtm: res.set_content(align::to_ctm({file}), "text/plain; charset=utf-8"); break;
      case AlignFormat::kTextGrid: res.set_content(align::to_textgrid(file), "text/plain; charset=utf-8"); break;
    }
  } catch (const RequestError& e) {
    send_error(res, e);
  }
}

// stream=true: the audio goes through a Stream in steps of partial_seconds; after each step an
// event carries the newly final text as OpenAI's `delta` (so the deltas add up to the final
// text) and, as w2v's extension `partial`, the whole transcript so far including the current
// unfinished segment. The last event is transcript.text.done with the text (and, for
// verbose_json, the verbose fields).
void Server::Impl::stream(const TranscriptionRequest& r, std::vector<float> samples, std::shared_ptr<Active> active,
                          std::shared_ptr<Admission::Ticket> ticket, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto job = std::make_shared<std::vector<float>>(std::move(samples));
  res.set_chunked_content_provider(
      "text/event-stream", [this, r, job, active, ticket](size_t, httplib::DataSink& sink) {
        auto send = [&](const json& event) {
          const std::string s = sse_event(event);
          return sink.write(s.data(), s.size());
        };
        try {
          auto stream = recognizer.stream(options.stream);
          Transcript all;
          std::string last_partial;
          auto emit = [&](const StreamUpdate& u) {
            const size_t before = all.text.size();
            for (const auto& f : u.finals) append(all, f);
            std::string delta = all.text.substr(before);
            if (before > 0 && !delta.empty() && delta[0] != ' ') delta = " " + delta;
            const std::string partial =
                all.text + (!all.text.empty() && !u.partial.text.empty() ? " " : "") + u.partial.text;
            if (delta.empty() && partial == last_partial) return true;
            last_partial = partial;
            return send({{"type", "transcript.text.delta"}, {"delta", delta}, {"partial", partial}});
          };
          const auto& x = *job;
          const size_t step = std::max<size_t>(1, static_cast<size_t>(options.stream.partial_seconds * audio::kSampleRate));
          for (size_t pos = 0; pos < x.size(); pos += step)
            if (!emit(stream->push(x.data() + pos, std::min(step, x.size() - pos), audio::kSampleRate)))
              return false;  // the client left
          if (!emit(stream->finish())) return false;
          all.duration = static_cast<double>(x.size()) / audio::kSampleRate;
          json done = {{"type", "transcript.text.done"}, {"text", all.text}};
          if (r.format == ResponseFormat::kVerboseJson) {
            const json v = verbose(all, r);  // named: items() of a temporary would dangle
            for (const auto& [key, value] : v.items())
              if (key != "text") done[key] = value;
          }
          send(done);
        } catch (const std::exception& e) {  // w2v::Error, or LibTorch's c10::Error
          send({{"type", "error"}, {"error", {{"message", e.what()}, {"type", "server_error"}, {"code", "transcription_failed"}}}});
        }
        sink.done();
        return true;
      });
}

Server::Server(const Recognizer& recognizer, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(recognizer, options)) {
  auto& http = impl_->http;
  const auto& o = impl_->options;
  // Room for every admitted or queued transcription plus a few threads for health checks,
  // the page and quick refusals: a request beyond the queue meets a thread that can say 503.
  const size_t threads = static_cast<size_t>(o.max_concurrency + o.max_queue + 4);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(o.max_upload_bytes);
  http.set_read_timeout(o.timeout_seconds);
  http.set_write_timeout(o.timeout_seconds);
  http.set_keep_alive_timeout(std::min(o.timeout_seconds, 5));
  impl_->routes();
}

Server::~Server() = default;

int Server::bind() {
  const auto& o = impl_->options;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) throw Error(fmt::format("serve: cannot listen on {}:{} (in use, or not an address of this machine?)", o.host, o.port));
  return port;
}

void Server::run() { impl_->http.listen_after_bind(); }

void Server::stop() {
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->draining = true;
    impl_->idle.wait(lock, [&] { return impl_->active == 0; });
  }
  impl_->http.stop();
}

}  // namespace w2v::serve
