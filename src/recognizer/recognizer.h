// w2v's public face for embedding speech recognition (whisper.h's model): create a Recognizer
// once from a fine-tuned CTC model (+ optional lexicon and n-gram LM), then transcribe buffers
// or files, or feed a Stream live audio. The CLI (infer, transcribe; extract over the internal
// features.h), the server and the Python module are front ends over this library. Errors are
// w2v::Error (util/error.h).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "align/alignment.h"
#include "decode/emissions.h"
#include "decode/options.h"

namespace w2v {

// What a Recognizer is built from. Only `model` is required; every default is documented in
// decode/options.h (one set, used by the CLI too).
struct RecognizerOptions {
  std::string model;  // fine-tuned CTC checkpoint: w2v/fairseq .pt, or a HuggingFace directory
  std::string dict;   // dict.ltr.txt, only for a model stored without its dictionary ("" = the model's)
  decode::DecoderOptions decoding;  // decoder kind, lexicon and LM paths, beam knobs, post-process
  // LibTorch intra-op threads for the model, a process-wide setting applied at creation
  // (0 = all cores, < 0 = leave as is). See docs/decoding.md for measured choices.
  int threads = 1;
  std::string device = "cpu";  // the only device today; anything else is an error
  // Model arithmetic: fp32 | bf16 | int8 (docs/inference.md has speed and accuracy of each).
  std::string precision = "fp32";
  // Long audio runs through the model in windows of chunk_seconds, each with overlap_seconds
  // of context on both sides, their emissions stitched (decode/chunking.h).
  double chunk_seconds = 30, overlap_seconds = 1;
};

// One decoded word; times in seconds from the start of the audio, confidence in (0, 1].
struct Word {
  std::string word;
  double start = 0, end = 0, confidence = 0;
};

// One emitted unit (collapsed CTC path: repeats merged, blanks dropped) and its first frame's time.
struct Token {
  std::string token;
  double time = 0;
};

// One hypothesis: text = words joined by single spaces; score = the decoder's total.
struct Hypothesis {
  std::string text;
  double score = 0;
  std::vector<Word> words;
  std::vector<Token> tokens;
};

// The best hypothesis plus the n-best list (nbest[0] is the best itself; decoding.beam.nbest
// entries at most) and the audio's length in seconds.
struct Transcript : Hypothesis {
  double duration = 0;
  std::vector<Hypothesis> nbest;
};

class Stream;

// How a Stream windows live audio: shorter windows than transcribe's give earlier text. A
// finished window needs overlap_seconds of audio after its core, so text of a word is final
// about pause_seconds + chunk_seconds + overlap_seconds after it was spoken (docs/decoding.md
// has the measured delay). partial_seconds: how much new audio triggers a new partial result.
struct StreamOptions {
  double chunk_seconds = 1, overlap_seconds = 0.5;
  double pause_seconds = 0.5;
  double partial_seconds = 0.5;
};

// A loaded model with its decoder. Every const member is safe to call from many threads at once
// on one Recognizer (the model is read-only, each call decodes with its own decoder); creation
// and destruction are not concurrent with anything.
class Recognizer {
 public:
  explicit Recognizer(const RecognizerOptions& options);  // loads everything; throws w2v::Error
  ~Recognizer();
  Recognizer(const Recognizer&) = delete;
  Recognizer& operator=(const Recognizer&) = delete;

  // Mono float samples in [-1, 1] at any rate (resampled to 16 kHz); long audio is windowed.
  Transcript transcribe(const float* samples, size_t n, int sample_rate) const;
  // An audio file libsndfile reads, any length and rate, read window by window from disk so
  // memory holds one window plus the emissions.
  Transcript transcribe_file(const std::string& path) const;

  // The model's per-frame scores (raw CTC logits, fairseq's emissions; log_partition() turns
  // them into log posteriors) for audio, windowed as transcribe does: frame t covers
  // [t, t + 1) * frame_seconds().
  decode::EmissionMatrix emissions(const float* samples, size_t n, int sample_rate) const;
  // progress, if given, gets the seconds of the file done after each window.
  decode::EmissionMatrix file_emissions(const std::string& path,
                                        const std::function<void(double)>& progress = {}) const;
  // Decodes emissions (from emissions() or elsewhere, vocab == symbols().size()).
  Transcript decode(const decode::Emissions& emissions, double duration) const;

  // Forced alignment (docs/alignment.md): the known `transcript` (UTF-8, normalised by the
  // documented rule) put on the audio's emissions, every word and letter with its times and a
  // score; options.frame_seconds is taken from the model. Errors (unknown characters, a text
  // longer than the audio) begin with transcript_name.
  align::Alignment align(const float* samples, size_t n, int sample_rate, const std::string& transcript,
                         const align::AlignOptions& options = {},
                         const std::string& transcript_name = "transcript") const;
  align::Alignment align_file(const std::string& path, const std::string& transcript,
                              const align::AlignOptions& options = {},
                              const std::string& transcript_name = "transcript") const;

  const std::vector<std::string>& symbols() const;  // output units, row order of the emissions
  double frame_seconds() const;                       // 0.02 for wav2vec 2.0
  const RecognizerOptions& options() const;

  // A new live-audio session over this Recognizer (which must outlive it).
  std::unique_ptr<Stream> stream(const StreamOptions& options) const;
  std::unique_ptr<Stream> stream() const { return stream(StreamOptions()); }

  struct Impl;  // internal (recognizer/impl.h); not part of the stable interface
  const Impl& impl() const;  // for w2v's own front ends (infer's batched splits)

 private:
  std::unique_ptr<Impl> impl_;
};

// Live audio for one caller (not shared between threads). Audio is pushed as it arrives; the
// model runs window by window as soon as a window's right context is there, so the finished
// part of the emissions is exactly what transcribe() computes on the whole signal (for models
// without task.normalize). A segment ends at a pause in the speech (at least
// StreamOptions::pause_seconds of blank frames): its words become final and are not revised.
struct StreamUpdate {
  std::vector<Transcript> finals;  // segments that ended since the last update, in order
  Transcript partial;              // the current unfinished segment's best guess (may change)
};

class Stream {
 public:
  virtual ~Stream() = default;
  // Appends mono samples at `sample_rate` (the same rate for every call) and returns what changed.
  virtual StreamUpdate push(const float* samples, size_t n, int sample_rate) = 0;
  // End of audio: decodes everything left; the last segment is returned in finals.
  virtual StreamUpdate finish() = 0;
  // Seconds of audio pushed so far (at 16 kHz).
  virtual double seconds() const = 0;
};

}  // namespace w2v
