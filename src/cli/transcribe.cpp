// w2v transcribe MODEL AUDIO...: audio files of any length -> text, JSON or SRT with word times,
// through the Recognizer library (recognizer/recognizer.h); `-` (or --stream) reads live audio
// from stdin and prints partial and final lines as they come. Progress bars on stderr when it
// is a terminal.
#include <malloc.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fmt/core.h>
#include <future>
#include <iostream>

#include "audio/audio.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "cli/decode_options.h"
#include "decode/transcript_format.h"
#include "recognizer/recognizer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

struct TranscribeOptions {
  std::vector<std::string> args;  // MODEL AUDIO... (AUDIO... alone with --path)
  std::string path, dict, format = "text", output;
  bool stream = false;
  w2v::RecognizerOptions recognizer;
  w2v::StreamOptions live;
};

// Live input: raw 16 kHz s16le, or a WAV stream (RIFF header, then PCM 16-bit or float 32-bit
// at any rate and channel count; the data size is ignored, as arecord writes a bogus one).
class StdinAudio {
 public:
  // Reads the header if there is one; throws w2v::Error for a WAV format it cannot read.
  StdinAudio() {
    std::string head = read_bytes(12);
    if (head.size() == 12 && head.compare(0, 4, "RIFF") == 0 && head.compare(8, 4, "WAVE") == 0) {
      for (;;) {
        const std::string chunk = read_bytes(8);
        if (chunk.size() < 8) throw w2v::Error("stdin: WAV stream ends before its data chunk");
        uint32_t size = 0;
        std::memcpy(&size, chunk.data() + 4, 4);
        if (chunk.compare(0, 4, "data") == 0) break;
        if (size > (1u << 20)) throw w2v::Error("stdin: WAV chunk '" + chunk.substr(0, 4) + "' is implausibly large");
        const std::string body = read_bytes(size + (size & 1));
        if (chunk.compare(0, 4, "fmt ") == 0 && body.size() >= 16) {
          uint16_t format = 0, channels = 0, bits = 0;
          uint32_t rate = 0;
          std::memcpy(&format, body.data(), 2);
          std::memcpy(&channels, body.data() + 2, 2);
          std::memcpy(&rate, body.data() + 4, 4);
          std::memcpy(&bits, body.data() + 14, 2);
          if (format == 0xFFFE && body.size() >= 26) std::memcpy(&format, body.data() + 24, 2);  // extensible
          float_ = format == 3 && bits == 32;
          if (!(float_ || (format == 1 && bits == 16)) || channels == 0)
            throw w2v::Error(fmt::format("stdin: WAV format {} with {} bits: expected 16-bit PCM or 32-bit float",
                                         format, bits));
          channels_ = channels;
          rate_ = static_cast<int>(rate);
        }
      }
    } else {
      pending_ = head;  // raw samples
    }
  }
  int rate() const { return rate_; }
  // Up to `frames` mono samples; empty at the end of input.
  std::vector<float> read(size_t frames) {
    const size_t width = (float_ ? 4 : 2) * channels_;
    std::string bytes = pending_ + read_bytes(frames * width - std::min(pending_.size(), frames * width));
    const size_t whole = bytes.size() / width * width;
    pending_ = bytes.substr(whole);
    std::vector<float> out(whole / width);
    for (size_t i = 0; i < out.size(); ++i) {
      float sum = 0;
      for (int c = 0; c < channels_; ++c) {
        const char* p = bytes.data() + i * width + c * (width / channels_);
        if (float_) {
          float x;
          std::memcpy(&x, p, 4);
          sum += x;
        } else {
          int16_t x;
          std::memcpy(&x, p, 2);
          sum += static_cast<float>(x) / 32768.f;
        }
      }
      out[i] = sum / static_cast<float>(channels_);
    }
    return out;
  }

 private:
  // Up to n bytes (fewer only at the end of input).
  static std::string read_bytes(size_t n) {
    std::string s(n, '\0');
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(STDIN_FILENO, s.data() + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw w2v::Error(std::string("stdin: ") + std::strerror(errno));
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    s.resize(got);
    return s;
  }
  std::string pending_;
  int rate_ = w2v::audio::kSampleRate, channels_ = 1;
  bool float_ = false;
};

// Prints "partial<TAB>seconds<TAB>text" whenever the unfinished segment's text changes and
// "final<TAB>start<TAB>end<TAB>text" when a segment ends (at a pause or the end of input),
// flushed at once; finals also go to `output` if given.
int transcribe_live(const w2v::Recognizer& rec, const w2v::StreamOptions& options, const std::string& output) {
  StdinAudio in;
  auto stream = rec.stream(options);
  std::string last_partial, finals;
  auto show = [&](const w2v::StreamUpdate& u) {
    for (const auto& f : u.finals) {
      const double start = f.words.empty() ? 0 : f.words.front().start, end = f.words.empty() ? 0 : f.words.back().end;
      fmt::print("final\t{:.2f}\t{:.2f}\t{}\n", start, end, f.text);
      finals += f.text + "\n";
      last_partial.clear();
    }
    if (!u.partial.text.empty() && u.partial.text != last_partial) {
      last_partial = u.partial.text;
      fmt::print("partial\t{:.2f}\t{}\n", stream->seconds(), u.partial.text);
    }
    std::fflush(stdout);
  };
  for (;;) {
    const auto block = in.read(static_cast<size_t>(in.rate() / 10));  // 100 ms
    if (block.empty()) break;
    show(stream->push(block.data(), block.size(), in.rate()));
  }
  show(stream->finish());
  if (!output.empty()) w2v::write_file_atomic(output, finals);
  return 0;
}

w2v::decode::DecodeResult as_result(const w2v::Transcript& t) {
  w2v::decode::DecodeResult r;
  r.score = t.score;
  for (const auto& w : t.words) {
    w2v::decode::WordSpan s;
    s.word = w.word;
    s.start = w.start;
    s.end = w.end;
    s.confidence = w.confidence;
    r.words.push_back(std::move(s));
  }
  return r;
}

int run_transcribe(TranscribeOptions& o) {
  using namespace w2v;
  // The model comes first (as for extract, info, export); --path names it the fairseq way.
  std::vector<std::string> audio_paths = o.args;
  if (o.path.empty()) {
    if (audio_paths.size() < 2 && !(o.stream && audio_paths.size() == 1))
      throw Error("transcribe: expected MODEL AUDIO... (or --path MODEL AUDIO...)");
    o.path = audio_paths.front();
    audio_paths.erase(audio_paths.begin());
  }
  const bool live = o.stream || (audio_paths.size() == 1 && audio_paths[0] == "-");
  if (live && !(audio_paths.empty() || (audio_paths.size() == 1 && audio_paths[0] == "-")))
    throw Error("transcribe --stream: reads stdin; give no audio files (or '-')");
  if (!live && audio_paths.empty()) throw Error("transcribe: expected at least one audio file after the model");
  if (o.format == "srt" && audio_paths.size() != 1)
    throw Error("option --format srt: expected exactly one audio file, got " + std::to_string(audio_paths.size()));
  // Each window allocates the same large activation buffers. With glibc's adaptive threshold
  // many of them land in the heap, where fragmentation made the peak wander by +-30 MB from
  // run to run; served by mmap and returned after each window, the peak is the same for a
  // 10-minute and a 40-minute file (231 vs 243 MB, the difference being the emissions).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  o.recognizer.model = o.path;
  o.recognizer.dict = o.dict;
  const Recognizer rec(o.recognizer);
  if (live) return transcribe_live(rec, o.live, o.output);

  std::vector<decode::FileTranscript> files;
  double total_seconds = 0;
  for (const auto& path : audio_paths) {
    const auto info = audio::info(path);
    files.push_back({path, static_cast<double>(info.frames) / info.sample_rate, {}});
    total_seconds += files.back().duration;
  }
  std::vector<decode::EmissionMatrix> emissions;
  {
    // Audio seconds done per wall second: the bar's rate is the x-realtime factor.
    Progress bar("model", std::llround(total_seconds), 0, "x realtime");
    double before = 0;
    for (const auto& f : files) {
      emissions.push_back(rec.file_emissions(f.path, [&](double seconds) { bar.update(std::llround(before + seconds)); }));
      before += f.duration;
    }
  }
  {
    // One decoder per file, files decoded side by side (Recognizer::decode is thread-safe).
    Progress bar("decode", static_cast<int64_t>(files.size()), 0, "files/s", files.size() > 1);
    const size_t threads = static_cast<size_t>(std::max(1, o.recognizer.threads > 0 ? o.recognizer.threads : 2));
    for (size_t first = 0; first < files.size(); first += threads) {
      std::vector<std::future<Transcript>> running;
      for (size_t i = first; i < std::min(files.size(), first + threads); ++i)
        running.push_back(std::async(std::launch::async, [&, i] { return rec.decode(emissions[i].view(), files[i].duration); }));
      for (size_t k = 0; k < running.size(); ++k) files[first + k].result = as_result(running[k].get());
      bar.update(static_cast<int64_t>(std::min(files.size(), first + threads)));
    }
  }

  std::string out;
  if (o.format == "json") {
    out = decode::to_json(files);
  } else if (o.format == "srt") {
    out = decode::to_srt(files[0].result.words);
  } else {
    // Several files: "path<TAB>text" lines, which `w2v wer` pairs by key with a reference.
    for (const auto& f : files) out += (files.size() > 1 ? f.path + "\t" : "") + f.result.text() + "\n";
  }
  if (o.output.empty()) {
    std::cout << out;
  } else {
    write_file_atomic(o.output, out);
  }
  return 0;
}

W2V_COMMAND("transcribe", std::string(w2v::cli::model_command_description("transcribe")),
            [](CLI::App& sub) {
              auto o = std::make_shared<TranscribeOptions>();
              sub.add_option("MODEL AUDIO", o->args,
                             "fine-tuned CTC model (fairseq/w2v .pt or HF directory), then audio files (any "
                             "rate/channels libsndfile reads); '-' reads 16 kHz s16le or a WAV stream from stdin")
                  ->required();
              sub.add_option("--path", o->path, "the model, fairseq infer.py's way (then every positional is audio)");
              sub.add_option("--dict", o->dict, "dict.ltr.txt of the model (when not stored with it)");
              w2v::cli::add_decoder_options(sub, o->recognizer.decoding);
              sub.add_option("--format", o->format, "text | json | srt")
                  ->check(CLI::IsMember({"text", "json", "srt"}))
                  ->capture_default_str();
              sub.add_option("--output,-o", o->output, "write here instead of stdout");
              sub.add_option("--chunk-seconds", o->recognizer.chunk_seconds, "model window core length")
                  ->capture_default_str();
              sub.add_option("--overlap-seconds", o->recognizer.overlap_seconds, "context added to each window side")
                  ->capture_default_str();
              sub.add_option("--threads", o->recognizer.threads, "threads (0: all cores; see docs/decoding.md)")
                  ->capture_default_str();
              w2v::cli::add_precision_option(sub, o->recognizer.precision);
              sub.add_flag("--stream", o->stream, "live audio from stdin (as AUDIO '-'): partial and final lines");
              sub.add_option("--stream-chunk-seconds", o->live.chunk_seconds, "live: window core length")
                  ->capture_default_str();
              sub.add_option("--stream-overlap-seconds", o->live.overlap_seconds, "live: context each side")
                  ->capture_default_str();
              sub.add_option("--pause-seconds", o->live.pause_seconds, "live: a pause this long ends a segment")
                  ->capture_default_str();
              return [o] { return run_transcribe(*o); };
            });

}  // namespace
