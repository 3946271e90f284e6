#include "audio/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::audio {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// libsndfile quietly shortens a WAV whose data chunk runs past the end of the file; its log
// says "data : <declared> (should be <actual>)". A real size in the header that the file does
// not hold means a truncated copy (streaming writers put 0 or ~4 GiB there instead).
void check_wav_length(SNDFILE* f, const SF_INFO& sfinfo, const std::string& path) {
  if ((sfinfo.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV) return;
  char log[8192] = {0};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
  const char* data = std::strstr(log, "\ndata : ");
  if (!data) return;
  long long declared = 0, actual = 0;
  if (std::sscanf(data, "\ndata : %lld (should be %lld)", &declared, &actual) != 2) return;
  if (declared > actual && declared < 0x7fff0000LL) {
    sf_close(f);
    throw file_error(path, 0, "truncated audio: WAV data chunk declares " + std::to_string(declared) +
                                  " bytes, the file holds " + std::to_string(actual));
  }
}

SndfilePtr open_read(const std::string& path, SF_INFO& sfinfo) {
  std::memset(&sfinfo, 0, sizeof sfinfo);
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &sfinfo);
  if (!f) throw file_error(path, 0, std::string("cannot read audio: ") + sf_strerror(nullptr));
  if (sfinfo.channels <= 0 || sfinfo.samplerate <= 0) {
    sf_close(f);
    throw file_error(path, 0, "not a valid audio file (no channels or sample rate)");
  }
  if (sfinfo.samplerate < kMinSampleRate || sfinfo.samplerate > kMaxSampleRate) {
    sf_close(f);
    throw file_error(path, 0, "unsupported sample rate " + std::to_string(sfinfo.samplerate) + " Hz (w2v reads " +
                                  std::to_string(kMinSampleRate) + " to " + std::to_string(kMaxSampleRate) + " Hz)");
  }
  check_wav_length(f, sfinfo, path);
  return SndfilePtr(f);
}

std::string format_name(int format) {
  SF_FORMAT_INFO major{}, sub{};
  major.format = format & SF_FORMAT_TYPEMASK;
  sub.format = format & SF_FORMAT_SUBMASK;
  std::string name = sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.extension
                         ? major.extension
                         : "?";
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name) name += std::string(" ") + sub.name;
  return name;
}

// Reads `frames` frames at the current position and averages channels; fewer frames than
// the header promises means the file is truncated or corrupt. The header's count is not trusted
// for allocation: the output grows with what decodes, reserved up to 4 frames per file byte
// (PCM holds at most 1, FLAC rarely more than 2), and one read's buffer is no larger either,
// uninitialised (zero-filling a 4 MB buffer for a file of a few KB, twice per input, was a
// quarter of fuzz_audio's time).
std::vector<float> read_mono(SNDFILE* f, const SF_INFO& sfinfo, int64_t frames, int64_t start,
                             const std::string& path) {
  const int ch = sfinfo.channels;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  const int64_t plausible = ec ? int64_t{1} << 20 : 4 * static_cast<int64_t>(bytes) + 4096;
  // Frames per read: at most 4 MB of interleaved floats.
  const int64_t chunk = std::min({frames, plausible, std::max<int64_t>(1, (int64_t{1} << 20) / ch)});
  std::vector<float> out;
  out.reserve(static_cast<size_t>(std::min(frames, plausible)));
  const std::unique_ptr<float[]> buffer(new float[static_cast<size_t>(chunk * ch)]);
  while (static_cast<int64_t>(out.size()) < frames) {
    const int64_t want = std::min<int64_t>(frames - static_cast<int64_t>(out.size()), chunk);
    const sf_count_t got = sf_readf_float(f, buffer.get(), want);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      float sum = 0;
      for (int c = 0; c < ch; ++c) sum += buffer[static_cast<size_t>(i * ch + c)];
      const float x = ch == 1 ? sum : sum / static_cast<float>(ch);
      if (!std::isfinite(x))
        throw file_error(path, 0, "non-finite (NaN or Inf) sample at frame " + std::to_string(start + out.size()));
      if (std::fabs(x) > kMaxAbsSample)
        throw file_error(path, 0, "absurd sample value " + std::to_string(x) + " at frame " +
                                      std::to_string(start + out.size()) + " (audio is expected in [-1, 1])");
      out.push_back(x);
    }
  }
  if (sf_error(f) != SF_ERR_NO_ERROR)
    throw file_error(path, 0, std::string("corrupt audio: ") + sf_strerror(f));
  if (static_cast<int64_t>(out.size()) < frames)
    throw file_error(path, 0, "truncated audio: header promises " + std::to_string(start + frames) +
                                  " frames, only " + std::to_string(start + out.size()) + " could be decoded");
  return out;
}

void check_rate(const std::string& path, int file_rate, const ReadOptions& options) {
  if (file_rate != options.sample_rate && !options.resample)
    throw file_error(path, 0, "sample rate is " + std::to_string(file_rate) + " Hz, expected " +
                                  std::to_string(options.sample_rate) + " Hz (convert it first, e.g. sox IN -r " + std::to_string(options.sample_rate) + " OUT)");
}

}  // namespace

Info info(const std::string& path) {
  SF_INFO sfinfo;
  SndfilePtr f = open_read(path, sfinfo);
  return Info{sfinfo.samplerate, static_cast<int64_t>(sfinfo.frames), sfinfo.channels, format_name(sfinfo.format)};
}

std::vector<float> read(const std::string& path, const ReadOptions& options) {
  SF_INFO sfinfo;
  SndfilePtr f = open_read(path, sfinfo);
  check_rate(path, sfinfo.samplerate, options);
  if (sfinfo.frames <= 0) throw file_error(path, 0, "audio has zero samples");
  std::vector<float> samples = read_mono(f.get(), sfinfo, sfinfo.frames, 0, path);
  if (sfinfo.samplerate != options.sample_rate) {
    samples = resample(samples, sfinfo.samplerate, options.sample_rate);
    if (samples.empty())
      throw file_error(path, 0, "audio too short: " + std::to_string(sfinfo.frames) + " frame(s) at " +
                                    std::to_string(sfinfo.samplerate) + " Hz give no sample at " +
                                    std::to_string(options.sample_rate) + " Hz");
  }
  if (options.normalize) normalize(samples);
  return samples;
}

std::vector<float> read_region(const std::string& path, int64_t offset, int64_t frames, const ReadOptions& options) {
  if (offset < 0 || frames < 0)
    throw file_error(path, 0, "bad region: offset " + std::to_string(offset) + ", frames " + std::to_string(frames));
  SF_INFO sfinfo;
  SndfilePtr f = open_read(path, sfinfo);
  check_rate(path, sfinfo.samplerate, options);
  if (sfinfo.frames <= 0) throw file_error(path, 0, "audio has zero samples");
  const double ratio = static_cast<double>(sfinfo.samplerate) / options.sample_rate;
  const int64_t src_offset = static_cast<int64_t>(std::floor(offset * ratio));
  if (src_offset >= sfinfo.frames) return {};
  const int64_t src_frames =
      std::min<int64_t>(static_cast<int64_t>(std::ceil(frames * ratio)), sfinfo.frames - src_offset);
  if (src_offset > 0 && sf_seek(f.get(), src_offset, SEEK_SET) < 0)
    throw file_error(path, 0, "cannot seek to frame " + std::to_string(src_offset) + ": " + sf_strerror(f.get()));
  std::vector<float> samples = read_mono(f.get(), sfinfo, src_frames, src_offset, path);
  if (sfinfo.samplerate != options.sample_rate) {
    samples = resample(samples, sfinfo.samplerate, options.sample_rate);
    if (static_cast<int64_t>(samples.size()) > frames) samples.resize(static_cast<size_t>(frames));
  }
  if (options.normalize && !samples.empty()) normalize(samples);
  return samples;
}

std::vector<float> resample(const std::vector<float>& samples, double from_rate, double to_rate) {
  for (double rate : {from_rate, to_rate})
    if (!(rate >= kMinSampleRate && rate <= kMaxSampleRate))
      throw Error("cannot resample: rate " + std::to_string(rate) + " Hz is outside " +
                  std::to_string(kMinSampleRate) + " to " + std::to_string(kMaxSampleRate) + " Hz");
  if (from_rate == to_rate || samples.empty()) return samples;
  const size_t out_len = static_cast<size_t>(std::llround(samples.size() * to_rate / from_rate));
  if (out_len == 0) return {};  // soxr cannot write into an empty buffer
  std::vector<float> out(out_len);
  size_t done = 0;
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, samples.data(), samples.size(), nullptr, out.data(),
                                  out.size(), &done, &io, &quality, nullptr);
  if (err) throw Error(std::string("resampling failed: ") + soxr_strerror(err));
  out.resize(done);
  return out;
}

void normalize(std::vector<float>& samples) {
  if (samples.empty()) return;
  double sum = 0;
  for (float x : samples) sum += x;
  const double mean = sum / samples.size();
  double var = 0;
  for (float x : samples) var += (x - mean) * (x - mean);
  var /= samples.size();
  const double scale = 1.0 / std::sqrt(var + 1e-5);
  for (float& x : samples) x = static_cast<float>((x - mean) * scale);
}

namespace {

// libsndfile writes through these callbacks into memory, so that the finished file can be
// written atomically in one piece.
struct MemoryFile {
  std::string data;
  sf_count_t pos = 0;
};

sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->data.size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : static_cast<sf_count_t>(m->data.size());
  m->pos = std::max<sf_count_t>(0, base + offset);
  return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  sf_count_t n = std::max<sf_count_t>(0, std::min<sf_count_t>(count, static_cast<sf_count_t>(m->data.size()) - m->pos));
  std::memcpy(ptr, m->data.data() + m->pos, static_cast<size_t>(n));
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void* ptr, sf_count_t count, void* user) {
  auto* m = static_cast<MemoryFile*>(user);
  if (m->pos + count > static_cast<sf_count_t>(m->data.size())) m->data.resize(static_cast<size_t>(m->pos + count));
  std::memcpy(&m->data[static_cast<size_t>(m->pos)], ptr, static_cast<size_t>(count));
  m->pos += count;
  return count;
}
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

int sndfile_format(Encoding e) {
  switch (e) {
    case Encoding::kPcm16: return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case Encoding::kPcm24: return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    case Encoding::kPcm32: return SF_FORMAT_WAV | SF_FORMAT_PCM_32;
    case Encoding::kFloat: return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case Encoding::kFlac16: return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case Encoding::kFlac24: return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    case Encoding::kOggVorbis: return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  }
  return 0;
}

}  // namespace

void write(const std::string& path, const std::vector<float>& interleaved, int sample_rate, Encoding encoding,
           int channels) {
  if (channels <= 0 || interleaved.size() % static_cast<size_t>(channels) != 0)
    throw file_error(path, 0, "cannot write audio: sample count is not a multiple of the channel count");
  MemoryFile memory;
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO sfinfo{};
  sfinfo.samplerate = sample_rate;
  sfinfo.channels = channels;
  sfinfo.format = sndfile_format(encoding);
  {
    SNDFILE* raw = sf_open_virtual(&io, SFM_WRITE, &sfinfo, &memory);
    if (!raw) throw file_error(path, 0, std::string("cannot encode audio: ") + sf_strerror(nullptr));
    SndfilePtr f(raw);
    // Clip instead of wrapping around when a float sample exceeds full scale.
    sf_command(raw, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels);
    if (sf_writef_float(raw, interleaved.data(), frames) != frames)
      throw file_error(path, 0, std::string("cannot encode audio: ") + sf_strerror(raw));
  }
  write_file_atomic(path, memory.data);
}

}  // namespace w2v::audio
