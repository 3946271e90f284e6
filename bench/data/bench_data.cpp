// Loader throughput in seconds of audio per second of wall time: decode + collate of a
// pretraining epoch (crop to 15.6 s, max_tokens 1.4 M like BASE), for wav and flac, with
// 0, 1 and 2 worker threads. Also the raw decode rate of audio::read alone.
//   bench_data [DIR] [--files N] [--seconds S]
// DIR (default: a temp dir) receives the generated files; bench/data/loader_ref.py measures
// torchaudio.load on the same files for comparison.
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include "audio/audio.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/manifest.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Speech-like test signal (noise-excited harmonics with a varying pitch), so that FLAC's
// compression ratio is realistic rather than that of a pure tone.
std::vector<float> signal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, 0.02f);
  std::vector<float> x(n);
  double phase = 0;
  for (size_t i = 0; i < n; ++i) {
    const double f0 = 120 + 40 * std::sin(2 * M_PI * 0.7 * i / 16000.0 + seed);
    phase += 2 * M_PI * f0 / 16000.0;
    x[i] = static_cast<float>(0.2 * std::sin(phase) + 0.1 * std::sin(3 * phase) + 0.05 * std::sin(7 * phase)) + noise(rng);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "w2v_bench_data").string();
  int files = 120;
  double seconds = 12;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--files" && i + 1 < argc) files = std::stoi(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else dir = a;
  }
  for (const char* ext : {"wav", "flac"}) {
    const std::string sub = dir + "/" + ext;
    std::filesystem::create_directories(sub);
    double total_seconds = 0;
    for (int f = 0; f < files; ++f) {
      // Lengths 0.5x..1.5x the mean, as in a real corpus.
      const size_t n = static_cast<size_t>(16000 * seconds * (0.5 + (f % 11) / 10.0));
      total_seconds += n / 16000.0;
      const std::string path = fmt::format("{}/{:05d}.{}", sub, f, ext);
      if (!std::filesystem::exists(path))
        w2v::audio::write(path, signal(n, f), 16000,
                          std::string(ext) == "wav" ? w2v::audio::Encoding::kPcm16 : w2v::audio::Encoding::kFlac16);
    }
    w2v::data::ManifestOptions mo;
    mo.ext = ext;
    mo.valid_percent = 0;
    w2v::data::scan_audio_dir(sub, mo).train.save(sub + "/train.tsv");

    double t0 = now();
    for (int f = 0; f < files; ++f) w2v::audio::read(fmt::format("{}/{:05d}.{}", sub, f, ext));
    const double read_rate = total_seconds / (now() - t0);
    fmt::print("data/read_{}: {:.0f} s audio/s ({} files, {:.0f} s of audio, 1 thread)\n", ext, read_rate, files,
               total_seconds);

    w2v::data::DatasetOptions o;
    o.max_sample_size = 250000;
    auto ds = std::make_shared<w2v::data::AudioDataset>(sub + "/train.tsv", o);
    for (int workers : {0, 1, 2}) {
      w2v::data::LoaderOptions lo;
      lo.max_tokens = 1400000;
      lo.num_workers = workers;
      w2v::data::Loader loader(ds, lo);
      t0 = now();
      loader.start_epoch(1);
      w2v::data::Batch b;
      double cropped = 0;
      while (loader.next(b)) cropped += b.source.numel() / 16000.0;
      const double dt = now() - t0;
      fmt::print("data/loader_{}_workers{}: {:.0f} s audio/s decoded ({:.0f} s/s in batches after cropping), "
                 "{} batches\n",
                 ext, workers, total_seconds / dt, cropped / dt, loader.num_batches());
    }
  }
  return 0;
}
