// Recognizer::stream(): live audio through the same windows as transcribe (decode/chunking.h).
// A window runs once its right context has arrived, so the finished emissions never change;
// the unfinished tail is run provisionally for partial results. Segments end at pauses (runs of
// blank or word-boundary frames), which also bounds memory: a finished segment is dropped.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "audio/audio.h"
#include "recognizer/impl.h"
#include "util/error.h"

namespace w2v {

namespace {

class LiveStream : public Stream {
 public:
  LiveStream(const Recognizer::Impl& r, const StreamOptions& o) : r_(r), o_(o) {
    if (!(o.chunk_seconds > 0) || !(o.overlap_seconds >= 0) || !(o.pause_seconds > 0) || !(o.partial_seconds >= 0))
      throw Error(fmt::format("stream options: expected chunk_seconds > 0, overlap_seconds >= 0, pause_seconds > 0, "
                              "partial_seconds >= 0, got {}, {}, {}, {}",
                              o.chunk_seconds, o.overlap_seconds, o.pause_seconds, o.partial_seconds));
    stride_ = r.model.geometry().stride;
    stable_.vocab = static_cast<int>(r.model.symbols().size());
    pause_frames_ = std::max(1, static_cast<int>(std::lround(o.pause_seconds * audio::kSampleRate / stride_)));
  }

  StreamUpdate push(const float* samples, size_t n, int sample_rate) override {
    if (rate_ == 0) rate_ = sample_rate;
    if (sample_rate != rate_)
      throw Error(fmt::format("stream: audio at {} Hz after audio at {} Hz", sample_rate, rate_));
    add_raw(samples, n, false);
    StreamUpdate u;
    run_windows(false, u);
    if (static_cast<double>(total_ - partial_at_) >= o_.partial_seconds * audio::kSampleRate) {
      partial_at_ = total_;
      u.partial = partial();
    }
    return u;
  }

  StreamUpdate finish() override {
    add_raw(nullptr, 0, true);
    StreamUpdate u;
    run_windows(true, u);
    if (stable_.frames > 0) {
      auto t = segment(stable_.frames);
      if (!t.words.empty()) u.finals.push_back(std::move(t));
    }
    return u;
  }

  double seconds() const override { return static_cast<double>(total_) / audio::kSampleRate; }

 private:
  // Input at another rate is resampled in 100 ms blocks, each with 10 ms of neighbouring input
  // on both sides so that the resampler's edge effects are cut away.
  void add_raw(const float* samples, size_t n, bool end) {
    if (rate_ == 0 || rate_ == audio::kSampleRate) {
      append16(samples, n);
      return;
    }
    if (rate_ % 100 != 0 || rate_ < 1000)
      throw Error(fmt::format("stream: sample rate {} Hz: expected 16000 or a multiple of 100 Hz", rate_));
    raw_.insert(raw_.end(), samples, samples + n);
    const int64_t block = rate_ / 10, margin = rate_ / 100;
    for (;;) {
      const int64_t begin = raw_done_, stop = begin + block;
      const int64_t have = raw_offset_ + static_cast<int64_t>(raw_.size());
      if (!end && stop + margin > have) break;
      if (end && begin >= have) break;
      const int64_t from = std::max<int64_t>(0, begin - margin), to = std::min(have, stop + margin);
      std::vector<float> piece(raw_.begin() + (from - raw_offset_), raw_.begin() + (to - raw_offset_));
      auto out = audio::resample(piece, rate_, audio::kSampleRate);
      // Output sample k of the piece is input time from + k·rate/16000: keep [begin, stop)'s part.
      const int64_t skip = (begin - from) * audio::kSampleRate / rate_;
      const int64_t want = (std::min(stop, have) - begin) * audio::kSampleRate / rate_;
      const int64_t keep = std::max<int64_t>(0, std::min<int64_t>(want, static_cast<int64_t>(out.size()) - skip));
      append16(out.data() + skip, static_cast<size_t>(keep));
      raw_done_ = std::min(stop, have);
      // Keep the margin before the next block.
      const int64_t drop = std::max<int64_t>(0, raw_done_ - margin - raw_offset_);
      raw_.erase(raw_.begin(), raw_.begin() + drop);
      raw_offset_ += drop;
    }
  }

  void append16(const float* samples, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const float x = samples[i];
      if (!std::isfinite(x)) throw Error("stream: a sample is not finite");
      sum_ += x;
      sum_sq_ += static_cast<double>(x) * x;
    }
    audio_.insert(audio_.end(), samples, samples + n);
    total_ += static_cast<int64_t>(n);
  }

  // The window's samples, normalised with the statistics of all audio so far when the model
  // wants it (transcribe normalises with the whole signal's; a stream cannot know them).
  std::vector<float> window(const decode::Chunk& c) const {
    std::vector<float> w(audio_.begin() + (c.start - audio_offset_), audio_.begin() + (c.start + c.length - audio_offset_));
    if (r_.model.normalize()) {
      const double n = static_cast<double>(std::max<int64_t>(1, total_)), mean = sum_ / n;
      const double scale = 1.0 / std::sqrt(std::max(0.0, sum_sq_ / n - mean * mean) + 1e-5);
      for (float& x : w) x = static_cast<float>((x - mean) * scale);
    }
    return w;
  }

  std::vector<decode::Chunk> plan(int64_t from) const {
    return decode::plan_chunks(total_, static_cast<int64_t>(o_.chunk_seconds * audio::kSampleRate),
                               static_cast<int64_t>(o_.overlap_seconds * audio::kSampleRate), r_.model.geometry(), from);
  }

  // Appends the kept frames of chunk c to `out`.
  void run(const decode::Chunk& c, decode::EmissionMatrix& out) const {
    if (c.keep_end <= c.keep_begin) return;
    const auto w = window(c);
    auto e = r_.model.emissions({&w}).at(0);
    decode::append_chunk(c, e.data.data(), e.frames, out.vocab, r_.model.geometry(), out.data);
    out.frames = static_cast<int>(out.data.size() / out.vocab);
  }

  // Runs every window whose right context is there (every remaining one at the end), then cuts
  // segments at pauses.
  void run_windows(bool end, StreamUpdate& u) {
    if (total_ == 0) return;
    for (const auto& c : plan(next_begin_)) {
      if (!end && !c.complete) break;
      run(c, stable_);
      next_begin_ = c.core_end;
    }
    // Audio before the next window's start is no longer needed.
    const int64_t keep_from = std::max<int64_t>(0, std::min(total_, next_begin_ - overlap_samples()));
    if (keep_from > audio_offset_) {
      audio_.erase(audio_.begin(), audio_.begin() + (keep_from - audio_offset_));
      audio_offset_ = keep_from;
    }
    cut_pauses(u);
  }

  int64_t overlap_samples() const {
    const int64_t o = static_cast<int64_t>(o_.overlap_seconds * audio::kSampleRate);
    return (o + stride_ - 1) / stride_ * stride_;
  }

  bool is_pause(int f) const {
    const float* row = stable_.view().row(f);
    const int best = static_cast<int>(std::max_element(row, row + stable_.vocab) - row);
    const auto& tokens = r_.factory.tokens();
    return best == tokens.blank() || best == tokens.silence();
  }

  void cut_pauses(StreamUpdate& u) {
    for (; scanned_ < stable_.frames; ++scanned_) {
      if (!is_pause(scanned_)) {
        speech_ = true;
        run_ = 0;
        continue;
      }
      if (++run_ < pause_frames_ || !speech_) continue;
      // Cut in the middle of the pause, so each side keeps some silence around its words.
      const int cut = scanned_ + 1 - pause_frames_ / 2;
      auto t = segment(cut);
      if (!t.words.empty()) u.finals.push_back(std::move(t));
      speech_ = false;
      run_ = 0;
    }
  }

  // Decodes stable frames [0, frames) as a finished segment and drops them.
  Transcript segment(int frames) {
    decode::Emissions e{stable_.data.data(), frames, stable_.vocab};
    const double offset = static_cast<double>(first_frame_ * stride_) / audio::kSampleRate;
    auto t = r_.decode(e, static_cast<double>(frames * stride_) / audio::kSampleRate, offset);
    stable_.data.erase(stable_.data.begin(), stable_.data.begin() + static_cast<size_t>(frames) * stable_.vocab);
    stable_.frames -= frames;
    scanned_ -= frames;
    first_frame_ += frames;
    return t;
  }

  // The current segment: its finished frames plus a provisional run over the audio after them.
  Transcript partial() const {
    decode::EmissionMatrix e = stable_;
    for (const auto& c : plan(next_begin_)) run(c, e);
    if (e.frames == 0) return {};
    const double offset = static_cast<double>(first_frame_ * stride_) / audio::kSampleRate;
    return r_.decode(e.view(), static_cast<double>(e.frames * stride_) / audio::kSampleRate, offset);
  }

  const Recognizer::Impl& r_;
  StreamOptions o_;
  int64_t stride_ = 320;
  int rate_ = 0;
  // Input at rate_ not yet resampled (from raw_offset_), and how far it has been.
  std::vector<float> raw_;
  int64_t raw_offset_ = 0, raw_done_ = 0;
  // 16 kHz audio from audio_offset_ (what the next windows need), total_ samples so far.
  std::vector<float> audio_;
  int64_t audio_offset_ = 0, total_ = 0, partial_at_ = 0;
  double sum_ = 0, sum_sq_ = 0;
  int64_t next_begin_ = 0;              // core start of the next window to run
  decode::EmissionMatrix stable_;       // finished frames of the current segment
  int64_t first_frame_ = 0;             // global index of stable_'s first frame
  int scanned_ = 0, run_ = 0, pause_frames_ = 1;
  bool speech_ = false;
};

}  // namespace

std::unique_ptr<Stream> Recognizer::stream(const StreamOptions& options) const {
  return std::make_unique<LiveStream>(*impl_, options);
}

}  // namespace w2v
