#include "data/dataset.h"

#include <filesystem>

#include "audio/audio.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "util/error.h"

namespace w2v::data {

AudioDataset::AudioDataset(const std::string& manifest_tsv, const DatasetOptions& options, const std::string& labels,
                           std::shared_ptr<const Dictionary> dictionary)
    : manifest_path_(manifest_tsv), options_(options), dictionary_(std::move(dictionary)) {
  if (!labels.empty() && !dictionary_)
    throw file_error(labels, 0, "labels need a dictionary (dict.<ext>.txt) to be encoded");
  if (labels.empty()) dictionary_.reset();
  const Manifest manifest = Manifest::load(manifest_tsv);
  root_ = manifest.root;
  std::vector<std::string> lines;
  if (!labels.empty()) {
    lines = read_labels(labels);
    if (lines.size() != manifest.entries.size())
      throw file_error(labels, 0, "has " + std::to_string(lines.size()) + " lines but manifest " + manifest_tsv +
                                      " has " + std::to_string(manifest.entries.size()) + " entries");
  }
  for (size_t i = 0; i < manifest.entries.size(); ++i) {
    const ManifestEntry& e = manifest.entries[i];
    // As fairseq's FileAudioDataset: only the minimum filters; a longer item is cropped when
    // collated (fine-tuning too, whose transcript then covers more than the audio).
    if (e.num_samples < options.min_sample_size) {
      ++skipped_;
      continue;
    }
    Item item{e.path, e.num_samples, static_cast<long>(i + 2), {}};
    if (dictionary_) item.target = dictionary_->encode(lines[i]);
    items_.push_back(std::move(item));
  }
}

int64_t AudioDataset::batch_size_of(size_t i) const {
  const int64_t n = items_[i].num_samples;
  return !options_.pad && options_.max_sample_size > 0 ? std::min(n, options_.max_sample_size) : n;
}

std::vector<int64_t> AudioDataset::batch_sizes() const {
  std::vector<int64_t> sizes(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) sizes[i] = batch_size_of(i);
  return sizes;
}

std::string AudioDataset::path(size_t i) const { return (std::filesystem::path(root_) / items_[i].path).string(); }

std::vector<float> AudioDataset::load(size_t i, const AugmentDraw* augment) const {
  audio::ReadOptions read;
  read.resample = options_.resample;
  read.normalize = options_.normalize && !augment;
  std::vector<float> samples;
  try {
    samples = audio::read(path(i), read);
  } catch (const Error& e) {
    throw file_error(manifest_path_, items_[i].line, e.what());
  }
  if (!options_.resample && static_cast<int64_t>(samples.size()) != items_[i].num_samples)
    throw file_error(manifest_path_, items_[i].line,
                     path(i) + " has " + std::to_string(samples.size()) + " samples, the manifest says " +
                         std::to_string(items_[i].num_samples));
  if (augment) {
    samples = apply_augment(samples, *augment);
    if (options_.normalize) audio::normalize(samples);
  }
  return samples;
}

}  // namespace w2v::data
