// Audio input of w2v: any file libsndfile reads (wav 8/16/24/32-bit int or float, flac, ogg)
// becomes 16 kHz mono float32 in [-1, 1], exactly as fairseq reads it through soundfile
// (channels averaged; int samples scaled by 1/2^(bits-1)). Torch-free.
// Every failure (missing file, not audio, truncated, empty, NaN/Inf or absurd samples, a rate
// outside [kMinSampleRate, kMaxSampleRate], wrong rate) throws one w2v::Error that names the file.
// Memory: what a read allocates follows the samples actually decoded (never a header's count)
// times at most kSampleRate / kMinSampleRate for resampling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace w2v::audio {

constexpr int kSampleRate = 16000;
// Sample rates w2v reads: telephony's 8 kHz down to 1 kHz, up to 768 kHz studio rates. A header
// outside this range is corrupt or hostile (a "1 Hz" file would resample 16000-fold).
constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;
// Largest |sample| accepted (+60 dBFS). Float files may exceed full scale a little; 1e38 would
// overflow the model's float arithmetic into NaN.
constexpr float kMaxAbsSample = 1000.f;

// Header facts, read without decoding the samples.
struct Info {
  int sample_rate = 0;
  int64_t frames = 0;  // per channel, as soundfile.info(...).frames
  int channels = 0;
  std::string format;  // e.g. "WAV PCM_16", "FLAC PCM_16", "OGG VORBIS"
};

struct ReadOptions {
  int sample_rate = kSampleRate;  // rate the caller needs
  bool resample = false;          // false: another rate in the file is an error naming both rates
  bool normalize = false;         // fairseq task.normalize: zero mean, unit variance (eps 1e-5)
};

Info info(const std::string& path);

// The whole file as mono float at options.sample_rate.
std::vector<float> read(const std::string& path, const ReadOptions& options = {});

// frames samples from offset (both at options.sample_rate) without decoding the rest of the
// file; a region past the end is cut at the end. A resampled region is resampled on its own
// (edge effects within a few ms of its ends); normalize applies to the region.
std::vector<float> read_region(const std::string& path, int64_t offset, int64_t frames,
                               const ReadOptions& options = {});

// Band-limited resampling with soxr (high quality); output length = round(n * to / from)
// (empty when that rounds to 0).
std::vector<float> resample(const std::vector<float>& samples, double from_rate, double to_rate);

// In place: (x - mean) / sqrt(var + 1e-5), biased variance, i.e. layer_norm over the signal.
void normalize(std::vector<float>& samples);

// Encodings write() can produce.
enum class Encoding { kPcm16, kPcm24, kPcm32, kFloat, kFlac16, kFlac24, kOggVorbis };

// Writes mono (or interleaved multi-channel) samples atomically; the container follows the
// encoding (wav for Pcm*/Float, flac, ogg). Samples outside [-1, 1] are clipped for int encodings.
void write(const std::string& path, const std::vector<float>& interleaved, int sample_rate,
           Encoding encoding = Encoding::kPcm16, int channels = 1);

}  // namespace w2v::audio
