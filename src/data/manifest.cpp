#include "data/manifest.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <sstream>

#include "audio/audio.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::data {
namespace fs = std::filesystem;

Manifest Manifest::load(const std::string& tsv) {
  std::istringstream in(read_file(tsv));
  Manifest m;
  std::string line;
  if (!std::getline(in, line)) throw file_error(tsv, 1, "empty manifest, expected the root directory on line 1");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  m.root = line;
  if (m.root.empty() || m.root.find('\t') != std::string::npos)
    throw file_error(tsv, 1, "expected the root directory, got '" + line + "'");
  long number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t tab = line.find('\t');
    const std::string expected = "expected 'relative/path<TAB>num_samples', got '" + line + "'";
    if (tab == std::string::npos || tab == 0 || line.find('\t', tab + 1) != std::string::npos)
      throw file_error(tsv, number, expected);
    ManifestEntry e;
    e.path = line.substr(0, tab);
    const std::string count = line.substr(tab + 1);
    size_t used = 0;
    try {
      e.num_samples = std::stoll(count, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != count.size() || e.num_samples < 0) throw file_error(tsv, number, expected);
    m.entries.push_back(std::move(e));
  }
  return m;
}

namespace {

// Why a name cannot be one TSV field ("" when it can).
std::string unfit_for_tsv(const std::string& name) {
  for (char c : name)
    if (c == '\t' || c == '\n' || c == '\r')
      return std::string("its name contains a ") + (c == '\t' ? "tab" : c == '\n' ? "newline" : "carriage return") +
             ", which a TSV manifest cannot hold (rename the file)";
  return "";
}

std::string printable(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

}  // namespace

void Manifest::save(const std::string& tsv) const {
  if (const std::string why = unfit_for_tsv(root); !why.empty())
    throw file_error(tsv, 0, "cannot write the root directory '" + printable(root) + "': " + why);
  for (const ManifestEntry& e : entries)
    if (const std::string why = unfit_for_tsv(e.path); !why.empty())
      throw file_error(tsv, 0, "cannot write '" + printable(e.path) + "': " + why);
  write_atomic(tsv, [&](std::ostream& out) {
    out << root << '\n';
    for (const ManifestEntry& e : entries) out << e.path << '\t' << e.num_samples << '\n';
  });
}

std::string Manifest::full_path(size_t i) const { return (fs::path(root) / entries.at(i).path).string(); }

namespace {

// Python's random.Random(int seed).random(): MT19937 seeded with init_by_array over the
// seed's 32-bit words, 53-bit doubles from two draws. Reproduces wav2vec_manifest.py's split.
class PythonRandom {
 public:
  explicit PythonRandom(uint64_t seed) {
    std::vector<uint32_t> key;
    do {
      key.push_back(static_cast<uint32_t>(seed));
      seed >>= 32;
    } while (seed);
    init_genrand(19650218u);
    size_t i = 1, j = 0;
    for (size_t k = std::max<size_t>(kN, key.size()); k; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<uint32_t>(j);
      if (++i >= kN) mt_[0] = mt_[kN - 1], i = 1;
      if (++j >= key.size()) j = 0;
    }
    for (size_t k = kN - 1; k; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
      if (++i >= kN) mt_[0] = mt_[kN - 1], i = 1;
    }
    mt_[0] = 0x80000000u;
    index_ = kN;
  }

  double random() {
    const uint32_t a = next() >> 5, b = next() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

 private:
  static constexpr size_t kN = 624, kM = 397;

  void init_genrand(uint32_t s) {
    mt_[0] = s;
    for (size_t i = 1; i < kN; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }

  uint32_t next() {
    if (index_ >= kN) {
      for (size_t k = 0; k < kN; ++k) {
        const uint32_t y = (mt_[k] & 0x80000000u) | (mt_[(k + 1) % kN] & 0x7fffffffu);
        mt_[k] = mt_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      }
      index_ = 0;
    }
    uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

  std::array<uint32_t, kN> mt_{};
  size_t index_ = kN;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "flac,wav" -> {".flac", ".wav"}.
std::vector<std::string> extensions(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  std::string ext;
  while (std::getline(in, ext, ',')) {
    while (!ext.empty() && ext.front() == '.') ext.erase(0, 1);
    if (!ext.empty()) out.push_back("." + lower(ext));
  }
  if (out.empty()) throw Error("ext: expected extensions such as 'flac' or 'flac,wav', got '" + list + "'");
  return out;
}

bool hidden(const fs::path& relative) {
  for (const fs::path& part : relative)
    if (!part.empty() && part.string()[0] == '.') return true;
  return false;
}

}  // namespace

ManifestSplit scan_audio_dir(const std::string& dir, const ManifestOptions& options) {
  if (options.valid_percent < 0 || options.valid_percent > 1)
    throw Error("valid_percent must be in [0, 1], got " + std::to_string(options.valid_percent));
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(root)) throw file_error(dir, 0, "not a directory");
  const std::vector<std::string> suffixes = extensions(options.ext);
  std::vector<std::string> files;  // relative paths, as glob("**/*.ext") finds them
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = lower(it->path().filename().string());
    if (std::none_of(suffixes.begin(), suffixes.end(), [&](const std::string& suffix) {
          return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        }))
      continue;
    const fs::path relative = it->path().lexically_relative(root);
    if (!hidden(relative) && !it->is_directory()) files.push_back(relative.string());
  }
  if (ec) throw file_error(root.string(), 0, "cannot list directory: " + ec.message());
  std::sort(files.begin(), files.end());

  ManifestSplit split;
  split.train.root = split.valid.root = root.string();
  PythonRandom rand(options.seed);
  for (const std::string& file : files) {
    const fs::path real = fs::canonical(root / file, ec);
    if (ec) {
      split.bad_files.push_back((root / file).string() + ": " + ec.message());
      continue;
    }
    if (!options.path_must_contain.empty() && real.string().find(options.path_must_contain) == std::string::npos)
      continue;
    const std::string relative = real.lexically_relative(root).string();
    if (const std::string why = unfit_for_tsv(relative); !why.empty()) {
      split.bad_files.push_back(printable(real.string()) + ": " + why);
      continue;
    }
    int64_t frames = 0;
    try {
      frames = audio::info(real.string()).frames;
      if (frames <= 0) throw file_error(real.string(), 0, "audio has zero samples");
      if (options.verify) {
        audio::ReadOptions any_rate;
        any_rate.resample = true;  // only decoding is checked here, not the rate
        audio::read(real.string(), any_rate);
      }
    } catch (const Error& e) {
      split.bad_files.push_back(e.what());
      continue;
    }
    Manifest& dest = rand.random() > options.valid_percent ? split.train : split.valid;
    dest.entries.push_back({relative, frames});
  }
  return split;
}

}  // namespace w2v::data
