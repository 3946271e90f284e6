// w2v align: forced alignment of known transcripts to audio (docs/alignment.md). One file
// (MODEL AUDIO TRANSCRIPT, the transcript a file or the text itself) or a manifest with a
// label file; every word and letter gets a start, an end and a score.
#include <filesystem>
#include <iostream>
#include <set>

#include "align/formats.h"
#include "audio/audio.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/post_process.h"
#include "recognizer/recognizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

namespace fs = std::filesystem;

struct AlignCliOptions {
  std::string model, audio, transcript, manifest, labels, dict, output;
  std::string format = "json", cue = "word", unknown = "error";
  double window_seconds = 30, chunk_seconds = 30, overlap_seconds = 1;
  int threads = 1;
  std::string precision = "fp32";
};

struct Job {
  std::string audio, transcript_name, text;
};

// TRANSCRIPT names a file when one exists there; anything that looks like a path but is not
// there is an error, so that a typo is not aligned as text.
Job single_job(const AlignCliOptions& o) {
  std::error_code not_a_file;  // a sentence longer than NAME_MAX is text, not a filesystem_error
  if (fs::is_regular_file(o.transcript, not_a_file)) return {o.audio, o.transcript, w2v::read_file(o.transcript)};
  const std::string ext = fs::path(o.transcript).extension().string();
  if (o.transcript.find('/') != std::string::npos || ext == ".txt" || ext == ".wrd" || ext == ".ltr")
    throw w2v::file_error(o.transcript, 0, "no such transcript file (give the text itself without a path-like form)");
  return {o.audio, "", o.transcript};
}

std::vector<Job> manifest_jobs(const AlignCliOptions& o) {
  const auto manifest = w2v::data::Manifest::load(o.manifest);
  const auto lines = w2v::data::read_labels(o.labels);
  if (lines.size() != manifest.entries.size())
    throw w2v::file_error(o.labels, 0, "has " + std::to_string(lines.size()) + " lines, " + o.manifest + " has " +
                                            std::to_string(manifest.entries.size()) + " entries");
  const bool letters = fs::path(o.labels).extension() == ".ltr";
  std::vector<Job> jobs;
  for (size_t i = 0; i < lines.size(); ++i)
    jobs.push_back({manifest.full_path(i), o.labels + ":" + std::to_string(i + 1),
                    letters ? w2v::decode::post_process(lines[i], w2v::decode::PostProcess::kLetter) : lines[i]});
  return jobs;
}

std::string extension(const std::string& format) { return format == "textgrid" ? ".TextGrid" : "." + format; }


int run_align(const AlignCliOptions& o) {
  using namespace w2v;
  const bool many = !o.manifest.empty();
  if (many == !o.audio.empty())
    throw Error("w2v align: give either AUDIO TRANSCRIPT or --manifest TSV --labels FILE");
  if (!many && o.transcript.empty()) throw Error("w2v align: TRANSCRIPT (a file or the text) is required with AUDIO");
  if (many && o.labels.empty()) throw Error("w2v align: --manifest needs --labels (.wrd or .ltr lines)");
  const bool per_file = o.format == "srt" || o.format == "vtt" || o.format == "textgrid";
  if (many && per_file && o.output.empty())
    throw Error("option --format " + o.format + " with --manifest: -o DIR is required (one file per entry)");
  const std::vector<Job> jobs = many ? manifest_jobs(o) : std::vector<Job>{single_job(o)};
  std::error_code ec;
  if (many && per_file && !fs::create_directories(o.output, ec) && ec)
    throw file_error(o.output, 0, "cannot create the output directory: " + ec.message());

  RecognizerOptions ro;
  ro.model = o.model;
  ro.dict = o.dict;
  ro.threads = o.threads;
  ro.precision = o.precision;
  ro.chunk_seconds = o.chunk_seconds;
  ro.overlap_seconds = o.overlap_seconds;
  const Recognizer recognizer(ro);
  align::AlignOptions options;
  options.unknown = o.unknown == "skip" ? align::Unknown::kSkip : align::Unknown::kError;
  options.viterbi.window_frames = static_cast<int>(o.window_seconds / recognizer.frame_seconds());
  const align::Cue cue = o.cue == "line" ? align::Cue::kLine : align::Cue::kWord;

  std::vector<align::FileAlignment> files;
  std::set<std::string> stems;
  for (const Job& job : jobs) {
    const audio::Info info = audio::info(job.audio);
    align::FileAlignment f;
    f.audio = job.audio;
    f.transcript = job.transcript_name;
    f.duration = static_cast<double>(info.frames) / info.sample_rate;
    f.alignment = recognizer.align_file(job.audio, job.text, options,
                                        job.transcript_name.empty() ? "transcript" : job.transcript_name);
    if (many && per_file) {
      const std::string stem = fs::path(job.audio).stem().string();
      if (!stems.insert(stem).second)
        throw file_error(o.manifest, 0, "two entries have the file name '" + stem + "'; -o DIR needs unique names");
      const std::string path = (fs::path(o.output) / (stem + extension(o.format))).string();
      write_file_atomic(path, o.format == "srt"   ? align::to_srt(f.alignment, cue)
                              : o.format == "vtt" ? align::to_vtt(f.alignment, cue)
                                                  : align::to_textgrid(f));
    } else {
      files.push_back(std::move(f));
    }
  }
  if (many && per_file) return 0;
  std::string out;
  if (o.format == "json") out = align::to_json(files);
  else if (o.format == "ctm") out = align::to_ctm(files);
  else if (o.format == "srt") out = align::to_srt(files[0].alignment, cue);
  else if (o.format == "vtt") out = align::to_vtt(files[0].alignment, cue);
  else out = align::to_textgrid(files[0]);
  if (o.output.empty()) std::cout << out;
  else write_file_atomic(o.output, out);
  return 0;
}

W2V_COMMAND("align", std::string(w2v::cli::model_command_description("align")),
            [](CLI::App& sub) {
              auto o = std::make_shared<AlignCliOptions>();
              sub.add_option("MODEL", o->model, "fine-tuned CTC model (fairseq .pt, HF directory or w2v)")->required();
              sub.add_option("AUDIO", o->audio, "audio file (any length, rate, format libsndfile reads)")
                  ->check(CLI::ExistingFile);
              sub.add_option("TRANSCRIPT", o->transcript, "its transcript: a text file, or the text itself");
              sub.add_option("--manifest", o->manifest, "many files: a fairseq manifest (.tsv)")
                  ->check(CLI::ExistingFile);
              sub.add_option("--labels", o->labels, "their transcripts, one line per entry (.wrd words or .ltr letters)")
                  ->check(CLI::ExistingFile);
              sub.add_option("--format", o->format, "json | srt | vtt | ctm | textgrid")
                  ->check(CLI::IsMember({"json", "srt", "vtt", "ctm", "textgrid"}))
                  ->capture_default_str();
              sub.add_option("--cue", o->cue, "subtitle cues (srt, vtt): one per word, or one per transcript line")
                  ->check(CLI::IsMember({"word", "line"}))
                  ->capture_default_str();
              sub.add_option("--unknown", o->unknown,
                             "characters the dictionary cannot spell: error (list them) | skip (drop, list in JSON)")
                  ->check(CLI::IsMember({"error", "skip"}))
                  ->capture_default_str();
              sub.add_option("--output,-o", o->output,
                             "write here instead of stdout (a directory for srt/vtt/textgrid with --manifest)");
              sub.add_option("--dict", o->dict, "dict.ltr.txt of the model (when not stored with it)");
              sub.add_option("--window-seconds", o->window_seconds,
                             "alignment window: longer audio is aligned window by window, in about 2 x (window "
                             "frames)^2 bytes (4.5 MB for 30 s of 20 ms frames)")
                  ->capture_default_str()
                  ->check(CLI::Range(1.0, 100.0));
              sub.add_option("--chunk-seconds", o->chunk_seconds, "model window core length")->capture_default_str();
              sub.add_option("--overlap-seconds", o->overlap_seconds, "context added to each model window side")
                  ->capture_default_str();
              sub.add_option("--threads", o->threads, "threads (0: all cores)")->capture_default_str();
              w2v::cli::add_precision_option(sub, o->precision);
              return [o] { return run_align(*o); };
            });

}  // namespace
