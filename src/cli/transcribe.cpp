// w2v transcribe: audio files of any length -> text, JSON or SRT with word times. Long files
// are run through the model in overlapping windows whose emissions are stitched, then decoded
// in one piece (decode/chunking.h). Progress bars on stderr when it is a terminal.
#include <malloc.h>

#include <cmath>
#include <iostream>

#include "audio/audio.h"
#include "cli/command.h"
#include "cli/decode_options.h"
#include "decode/decoder.h"
#include "decode/infer/acoustic_model.h"
#include "decode/transcript_format.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

struct TranscribeOptions {
  std::vector<std::string> audio;
  std::string path, dict, format = "text", output;
  double chunk_seconds = 30, overlap_seconds = 1;
  int threads = 1;
  w2v::cli::DecoderOptions decoding;
};

int run_transcribe(const TranscribeOptions& o) {
  using namespace w2v;
  if (o.format == "srt" && o.audio.size() != 1)
    throw Error("option --format srt: expected exactly one audio file, got " + std::to_string(o.audio.size()));
  const int threads = cli::set_threads(o.threads);
  // Each window allocates the same large activation buffers. With glibc's adaptive threshold
  // many of them land in the heap, where fragmentation made the peak wander by +-30 MB from
  // run to run; served by mmap and returned after each window, the peak is the same for a
  // 10-minute and a 40-minute file (231 vs 243 MB, the difference being the emissions).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  decode::AcousticModel model(o.path, o.dict);
  const auto& d = o.decoding;
  const auto factory = cli::make_decoder_factory(d, model.symbols());
  std::vector<decode::FileTranscript> files;
  double total_seconds = 0;
  for (const auto& path : o.audio) {
    const auto info = audio::info(path);
    files.push_back({path, static_cast<double>(info.frames) / info.sample_rate, {}});
    total_seconds += files.back().duration;
  }
  std::vector<std::vector<float>> emissions;
  {
    // Audio seconds done per wall second: the bar's rate is the x-realtime factor.
    Progress bar("model", std::llround(total_seconds), 0, "x realtime");
    double before = 0;
    for (const auto& f : files) {
      emissions.push_back(model.file_emissions(f.path, o.chunk_seconds, o.overlap_seconds, [&](int64_t samples) {
        bar.update(std::llround(before + static_cast<double>(samples) / audio::kSampleRate));
      }));
      before += f.duration;
    }
  }
  const int V = static_cast<int>(model.symbols().size());
  std::vector<decode::Emissions> views;
  for (const auto& e : emissions) views.push_back({e.data(), static_cast<int>(e.size() / V), V});
  std::vector<std::vector<decode::DecodeResult>> results;
  {
    Progress bar("decode", static_cast<int64_t>(views.size()), 0, "files/s", views.size() > 1);
    results = decode::decode_all(factory, views, threads, [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  }
  for (size_t i = 0; i < files.size(); ++i) files[i].result = std::move(results[i].at(0));

  std::string out;
  if (o.format == "json") {
    out = decode::to_json(files);
  } else if (o.format == "srt") {
    out = decode::to_srt(files[0].result.words);
  } else {
    for (const auto& f : files) out += (files.size() > 1 ? f.path + "\t" : "") + f.result.text() + "\n";
  }
  if (o.output.empty()) {
    std::cout << out;
  } else {
    write_file_atomic(o.output, out);
  }
  return 0;
}

W2V_COMMAND("transcribe", "Transcribe audio files of any length (text, JSON or SRT with word times)",
            [](CLI::App& sub) {
              auto o = std::make_shared<TranscribeOptions>();
              sub.add_option("AUDIO", o->audio, "audio files (any rate/channels libsndfile reads)")
                  ->required()
                  ->check(CLI::ExistingFile);
              sub.add_option("--path", o->path, "fine-tuned CTC checkpoint (fairseq .pt, HF directory or w2v)")
                  ->required();
              sub.add_option("--dict", o->dict, "dict.ltr.txt of the model (when not stored with it)");
              w2v::cli::add_decoder_options(sub, o->decoding);
              sub.add_option("--format", o->format, "text | json | srt")
                  ->check(CLI::IsMember({"text", "json", "srt"}))
                  ->capture_default_str();
              sub.add_option("--output,-o", o->output, "write here instead of stdout");
              sub.add_option("--chunk-seconds", o->chunk_seconds, "model window core length")->capture_default_str();
              sub.add_option("--overlap-seconds", o->overlap_seconds, "context added to each window side")
                  ->capture_default_str();
              sub.add_option("--threads", o->threads, "threads (0: all cores)")->capture_default_str();
              return [o] { return run_transcribe(*o); };
            });

}  // namespace
