// Audio input of w2v: any file libsndfile reads (wav 8/16/24/32-bit int or float, flac, ogg)
// becomes 16 kHz mono float32 in [-1, 1], exactly as fairseq reads it through soundfile
// (channels averaged; int samples scaled by 1/2^(bits-1)). Torch-free.
// Every failure (missing file, not audio, truncated, empty, NaN, wrong rate) throws one
// w2v::Error that names the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace w2v::audio {

constexpr int kSampleRate = 16000;

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

// Band-limited resampling with soxr (high quality); output length = round(n * to / from).
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
