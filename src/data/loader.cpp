#include "data/loader.h"

#include "util/error.h"

namespace w2v::data {

Loader::Loader(std::shared_ptr<const AudioDataset> dataset, const LoaderOptions& options)
    : dataset_(std::move(dataset)), options_(options) {
  if (options_.num_workers < 0) throw Error("num_workers must be >= 0");
  if (options_.prefetch < 1) options_.prefetch = 1;
  shard_batches({}, options_.rank, options_.world_size);  // validates rank and world size
}

Loader::~Loader() { stop(); }

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  consumed_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
  failed_.clear();
  stopping_ = false;
}

void Loader::start_epoch(int64_t epoch, size_t skip) {
  stop();
  epoch_ = epoch;
  std::vector<int64_t> sizes = dataset_->batch_sizes();
  const uint64_t epoch_seed = mix_seed(options_.seed, static_cast<uint64_t>(epoch));
  draw_augmentations(epoch_seed, sizes);
  const std::vector<int64_t> order = ordered_indices(sizes, options_.shuffle, mix_seed(epoch_seed, 1));
  BatchIndices all = batch_by_size(order, sizes, options_.max_tokens, options_.max_sentences,
                                   options_.required_batch_size_multiple);
  if (options_.shuffle) shuffle_batches(all, mix_seed(epoch_seed, 2));
  batches_ = shard_batches(all, options_.rank, options_.world_size);
  next_out_ = next_task_ = std::min(skip, batches_.size());
  for (int i = 0; i < options_.num_workers; ++i) workers_.emplace_back([this] { work(); });
}

Batch Loader::make(size_t position) const {
  const std::vector<int64_t>& ids = batches_[position];
  // The crop stream depends on the epoch and the batch's first item only, never on which
  // worker or rank collates it.
  const uint64_t crop_seed = mix_seed(mix_seed(options_.seed, static_cast<uint64_t>(epoch_)), 3,
                                      static_cast<uint64_t>(ids.empty() ? 0 : ids.front()));
  return collate(*dataset_, ids, crop_seed, augment_.empty() ? nullptr : &augment_);
}

void Loader::draw_augmentations(uint64_t epoch_seed, std::vector<int64_t>& sizes) {
  augment_.clear();
  if (!options_.augment.enabled()) return;
  const DatasetOptions& d = dataset_->options();
  augment_.resize(dataset_->size());
  for (size_t i = 0; i < augment_.size(); ++i) {
    AugmentDraw& draw = augment_[i];
    draw = draw_augment(options_.augment, mix_seed(epoch_seed, 4, i));
    int64_t n = augmented_length(dataset_->num_samples(i), draw.speed);
    const bool too_long = (options_.max_tokens > 0 && n > options_.max_tokens) ||
                          (d.pad && d.max_sample_size > 0 && n > d.max_sample_size);
    if (too_long) {
      draw.speed = 1;
      n = dataset_->num_samples(i);
    }
    sizes[i] = !d.pad && d.max_sample_size > 0 ? std::min(n, d.max_sample_size) : n;
  }
}

void Loader::work() {
  for (;;) {
    size_t position;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      consumed_.wait(lock, [&] {
        return stopping_ || next_task_ >= batches_.size() ||
               next_task_ < next_out_ + static_cast<size_t>(options_.prefetch);
      });
      if (stopping_ || next_task_ >= batches_.size()) return;
      position = next_task_++;
    }
    Batch batch;
    std::exception_ptr error;
    try {
      batch = make(position);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error)
        failed_[position] = error;
      else
        ready_[position] = std::move(batch);
    }
    produced_.notify_all();
  }
}

bool Loader::next(Batch& batch) {
  if (next_out_ >= batches_.size()) return false;
  if (workers_.empty()) {
    batch = make(next_out_++);
    return true;
  }
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    produced_.wait(lock, [&] { return ready_.count(next_out_) || failed_.count(next_out_); });
    auto f = failed_.find(next_out_);
    if (f != failed_.end()) {
      error = f->second;
      failed_.erase(f);
    } else {
      auto r = ready_.find(next_out_);
      batch = std::move(r->second);
      ready_.erase(r);
    }
    ++next_out_;
  }
  consumed_.notify_all();
  if (error) std::rethrow_exception(error);
  return true;
}

}  // namespace w2v::data
