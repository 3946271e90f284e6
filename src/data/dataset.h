// fairseq's FileAudioDataset (+ AddTargetDataset): a manifest, optionally its label file and
// dictionary. Entries shorter than min_sample_size are skipped, and the same lines of the
// label file with them, so item i always pairs audio and transcript of one manifest line;
// longer ones than max_sample_size are kept (collate crops them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/augment.h"
#include "data/dictionary.h"

namespace w2v::data {

struct DatasetOptions {
  int64_t min_sample_size = 0;
  // 0 = unlimited. Longer items are randomly cropped to it when collated, in pretraining and,
  // as fairseq does, in fine-tuning (pad = true), where the crop cuts the audio, not the
  // transcript: keep such items out of a labeled corpus.
  int64_t max_sample_size = 0;
  bool pad = false;        // false: pretraining collate (crop to shortest); true: zero-pad + mask
  bool normalize = false;  // fairseq task.normalize, applied to the whole file before cropping
  bool resample = false;   // resample other rates to 16 kHz instead of failing
};

class AudioDataset {
 public:
  // labels empty: no targets. A label/manifest line-count mismatch is an error naming both
  // files. dictionary is required with labels.
  AudioDataset(const std::string& manifest_tsv, const DatasetOptions& options,
               const std::string& labels = "", std::shared_ptr<const Dictionary> dictionary = nullptr);

  size_t size() const { return items_.size(); }
  int64_t num_samples(size_t i) const { return items_[i].num_samples; }
  // Size used for batching (fairseq's num_tokens): min(num_samples, max_sample_size) in
  // pretraining, num_samples when padding.
  int64_t batch_size_of(size_t i) const;
  std::vector<int64_t> batch_sizes() const;

  // 16 kHz mono samples of item i (normalized if asked); errors name the file and the
  // manifest line. A file whose length differs from the manifest is an error. augment (not
  // null): applied to the file's samples before task.normalize.
  std::vector<float> load(size_t i, const AugmentDraw* augment = nullptr) const;
  bool has_targets() const { return dictionary_ != nullptr; }
  const std::vector<int64_t>& target(size_t i) const { return items_[i].target; }

  std::string path(size_t i) const;         // absolute path of item i
  long manifest_line(size_t i) const { return items_[i].line; }
  size_t skipped() const { return skipped_; }  // entries dropped by min_sample_size
  const DatasetOptions& options() const { return options_; }
  const std::string& manifest_path() const { return manifest_path_; }
  const Dictionary* dictionary() const { return dictionary_.get(); }

 private:
  struct Item {
    std::string path;  // relative to root_
    int64_t num_samples;
    long line;  // 1-based line in the manifest
    std::vector<int64_t> target;
  };
  std::string manifest_path_, root_;
  DatasetOptions options_;
  std::shared_ptr<const Dictionary> dictionary_;
  std::vector<Item> items_;
  size_t skipped_ = 0;
};

}  // namespace w2v::data
