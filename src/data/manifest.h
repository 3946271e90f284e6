// fairseq's audio manifest ({split}.tsv): line 1 = root directory, then one
// "relative/path<TAB>num_samples" per file (num_samples = frames as soundfile reports them).
// A file name containing a tab, '\n' or '\r' cannot be written (the TSV has no escapes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace w2v::data {

struct ManifestEntry {
  std::string path;  // relative to root
  int64_t num_samples = 0;
};

struct Manifest {
  std::string root;
  std::vector<ManifestEntry> entries;

  // Errors name tsv:line and what was expected.
  static Manifest load(const std::string& tsv);
  void save(const std::string& tsv) const;  // atomic; a path with a tab or line break is an error
  std::string full_path(size_t i) const;    // root/path
};

struct ManifestOptions {
  // Extensions searched for, comma-separated, without dots, matched case-insensitively; the
  // default is every container w2v reads (fairseq's script has one, flac).
  std::string ext = "flac,wav,ogg";
  // Fraction of files drawn into valid. 0 by default (fairseq's script: 0.01) so that no file
  // leaves the named split unless asked; the CLI prints how many moved.
  double valid_percent = 0;
  uint64_t seed = 42;
  std::string path_must_contain;   // keep only absolute paths containing it (if not empty)
  bool verify = false;             // decode every file (finds truncated/corrupt/NaN data, slower)
};

struct ManifestSplit {
  Manifest train, valid;
  std::vector<std::string> bad_files;  // one "path: reason" per unreadable file
};

// wav2vec_manifest.py for a directory tree: root = realpath(dir), files in sorted path order,
// each sent to valid when Python's random.Random(seed).random() <= valid_percent (the same
// draw sequence as fairseq). Unreadable audio, and names a TSV line cannot hold (tab, newline,
// carriage return), land in bad_files, not in the manifests.
ManifestSplit scan_audio_dir(const std::string& dir, const ManifestOptions& options);

}  // namespace w2v::data
