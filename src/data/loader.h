// Prefetching batch loader: worker threads decode audio and collate batches ahead of the
// training step. Batches, their order, every crop and augmentation are functions of (seed,
// epoch) only, so the output is identical for any num_workers and after a resume.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/augment.h"
#include "data/batching.h"
#include "data/dataset.h"

namespace w2v::data {

struct LoaderOptions {
  int64_t max_tokens = 1400000;  // samples per batch (count * longest), spec 7.3
  int64_t max_sentences = 0;     // 0 = no limit (fairseq dataset.batch_size)
  int64_t required_batch_size_multiple = 8;
  bool shuffle = true;  // false (validation): size order, no tie shuffle, no batch shuffle
  uint64_t seed = 1;
  int num_workers = 2;  // 0 = load in the calling thread
  int prefetch = 4;     // batches decoded ahead of the consumer
  int rank = 0, world_size = 1;
  // Drawn per (seed, epoch, item). Batching counts an item's length after its speed change; an
  // item that a slower speed would make longer than max_tokens (or, when padding, than
  // max_sample_size, which would cut its transcript) keeps speed 1.
  AugmentOptions augment;
};

class Loader {
 public:
  Loader(std::shared_ptr<const AudioDataset> dataset, const LoaderOptions& options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Prepares epoch (1-based, as fairseq) and starts the workers; skip = batches already
  // consumed in this epoch (resuming mid-epoch).
  void start_epoch(int64_t epoch, size_t skip = 0);
  // This rank's batches of the current epoch, in the order next() returns them.
  const BatchIndices& batches() const { return batches_; }
  size_t num_batches() const { return batches_.size(); }
  // Next batch of the epoch; false at its end. A worker's error is rethrown here.
  bool next(Batch& batch);

 private:
  void stop();
  void work();
  Batch make(size_t position) const;
  // Fills augment_ for the epoch and sets sizes to the augmented lengths.
  void draw_augmentations(uint64_t epoch_seed, std::vector<int64_t>& sizes);

  std::shared_ptr<const AudioDataset> dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  BatchIndices batches_;
  std::vector<AugmentDraw> augment_;  // per dataset item this epoch; empty when augmentation is off
  size_t next_out_ = 0;   // next position next() returns
  size_t next_task_ = 0;  // next position a worker takes
  bool stopping_ = false;
  std::map<size_t, Batch> ready_;
  std::map<size_t, std::exception_ptr> failed_;
  std::mutex mutex_;
  std::condition_variable produced_, consumed_;
  std::vector<std::thread> workers_;
};

}  // namespace w2v::data
