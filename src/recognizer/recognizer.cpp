#include "recognizer/recognizer.h"

#include <ATen/Parallel.h>
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "audio/audio.h"
#include "model/cpu_runtime.h"
#include "recognizer/impl.h"
#include "util/error.h"

namespace w2v {

namespace {

// Checked before the (slow) model load, so a bad option fails at once.
const RecognizerOptions& checked(const RecognizerOptions& o) {
  if (o.model.empty()) throw Error("recognizer: a model path is required");
  if (o.device != "cpu") throw Error("recognizer device '" + o.device + "': only cpu is supported");
  model::parse_precision(o.precision);
  if (!(o.chunk_seconds > 0) || !(o.overlap_seconds >= 0))
    throw Error(fmt::format("recognizer windows: expected chunk_seconds > 0 and overlap_seconds >= 0, got {} and {}",
                            o.chunk_seconds, o.overlap_seconds));
  model::tune_cpu_runtime();
  if (o.threads >= 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(o.threads == 0 ? cores : std::min(o.threads, 4 * cores));
  }
  return o;
}

}  // namespace

Recognizer::Impl::Impl(const RecognizerOptions& o)
    : options(checked(o)),
      model(o.model, o.dict, model::parse_precision(o.precision)),
      factory(decode::parse_decoder_kind(decode::chosen_decoder(o.decoding)), model.symbols(), o.decoding.lexicon, o.decoding.lm,
              o.decoding.beam, decode::parse_post_process(o.decoding.post_process)) {}

std::vector<float> Recognizer::Impl::to_16k(const float* samples, size_t n, int rate) {
  // The rates audio files may have (a 1 Hz "rate" would resample 16000-fold).
  if (rate < 1000 || rate > 768000) throw Error(fmt::format("sample rate {} Hz: expected 1000..768000", rate));
  std::vector<float> wave(samples, samples + n);
  for (float x : wave)
    if (!std::isfinite(x)) throw Error("audio: a sample is not finite");
  return rate == audio::kSampleRate ? wave : audio::resample(wave, rate, audio::kSampleRate);
}

Transcript Recognizer::Impl::transcript(const std::vector<decode::DecodeResult>& results, double duration,
                                        double offset) const {
  Transcript t;
  t.duration = duration;
  const auto& tokens = factory.tokens();
  for (const auto& r : results) {
    Hypothesis h;
    h.text = r.text();
    h.score = r.score;
    for (const auto& w : r.words) h.words.push_back({w.word, w.start + offset, w.end + offset, w.confidence});
    // A token starts where the path changes to a non-blank unit (collapse_path's rule).
    for (size_t f = 0; f < r.path.size(); ++f)
      if (r.path[f] != tokens.blank() && (f == 0 || r.path[f] != r.path[f - 1]))
        h.tokens.push_back({tokens.symbol(r.path[f]), offset + static_cast<double>(f) * decode::kFrameSeconds});
    t.nbest.push_back(std::move(h));
  }
  if (!t.nbest.empty()) static_cast<Hypothesis&>(t) = t.nbest.front();
  return t;
}

Transcript Recognizer::Impl::decode(const decode::Emissions& e, double duration, double offset) const {
  if (e.vocab != factory.tokens().size())
    throw Error(fmt::format("emissions: expected {} scores per frame (the model's units), got {}",
                            factory.tokens().size(), e.vocab));
  auto decoder = factory.make();  // per call: beam decoders keep mutable buffers
  return transcript(decoder->decode(e), duration, offset);
}

Recognizer::Recognizer(const RecognizerOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Recognizer::~Recognizer() = default;

decode::EmissionMatrix Recognizer::emissions(const float* samples, size_t n, int sample_rate) const {
  const auto wave = Impl::to_16k(samples, n, sample_rate);
  return impl_->model.signal_emissions(wave, impl_->options.chunk_seconds, impl_->options.overlap_seconds);
}

decode::EmissionMatrix Recognizer::file_emissions(const std::string& path,
                                                  const std::function<void(double)>& progress) const {
  std::function<void(int64_t)> on_window;
  if (progress) on_window = [&](int64_t samples) { progress(static_cast<double>(samples) / audio::kSampleRate); };
  return impl_->model.file_emissions(path, impl_->options.chunk_seconds, impl_->options.overlap_seconds, on_window);
}

Transcript Recognizer::decode(const decode::Emissions& emissions, double duration) const {
  return impl_->decode(emissions, duration);
}

Transcript Recognizer::transcribe(const float* samples, size_t n, int sample_rate) const {
  const auto e = emissions(samples, n, sample_rate);
  return decode(e.view(), static_cast<double>(n) / sample_rate);
}

Transcript Recognizer::transcribe_file(const std::string& path) const {
  const auto info = audio::info(path);
  const auto e = file_emissions(path);
  return decode(e.view(), static_cast<double>(info.frames) / info.sample_rate);
}

align::Alignment Recognizer::align(const float* samples, size_t n, int sample_rate, const std::string& transcript,
                                   const align::AlignOptions& options, const std::string& transcript_name) const {
  align::AlignOptions o = options;
  o.frame_seconds = frame_seconds();
  const auto e = emissions(samples, n, sample_rate);
  return align::align(e.view(), symbols(), transcript, transcript_name, "the audio", o);
}

align::Alignment Recognizer::align_file(const std::string& path, const std::string& transcript,
                                        const align::AlignOptions& options, const std::string& transcript_name) const {
  align::AlignOptions o = options;
  o.frame_seconds = frame_seconds();
  return align::align(file_emissions(path).view(), symbols(), transcript, transcript_name, path, o);
}

const std::vector<std::string>& Recognizer::symbols() const { return impl_->model.symbols(); }
double Recognizer::frame_seconds() const {
  return static_cast<double>(impl_->model.geometry().stride) / audio::kSampleRate;
}
const RecognizerOptions& Recognizer::options() const { return impl_->options; }
const Recognizer::Impl& Recognizer::impl() const { return *impl_; }

}  // namespace w2v
