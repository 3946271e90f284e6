// The loader with augmentation on (data/loader.h, data/augment.h): per (seed, epoch, item)
// draws, identical for any number of workers and after a resume, batches sized by the
// augmented lengths, whole utterances kept when padding, and off = the files' samples.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "audio/audio.h"
#include "audio/helpers.h"
#include "data/loader.h"
#include "util/fs.h"

namespace w2v::data {
namespace {

// n utterances of 4000..(4000 + 1500 (n - 1)) samples: noisy tones.
std::string write_set(const test::TempDir& dir, int n) {
  std::string tsv = dir.str() + "\n";
  for (int i = 0; i < n; ++i) {
    std::vector<float> x(static_cast<size_t>(4000 + 1500 * i));
    for (size_t t = 0; t < x.size(); ++t)
      x[t] = static_cast<float>(0.3 * std::sin(0.05 * (i + 3) * static_cast<double>(t)) + 0.01 * std::sin(1.3 * t));
    const std::string name = "u" + std::to_string(i) + ".wav";
    audio::write(dir / name, x, audio::kSampleRate);
    tsv += name + "\t" + std::to_string(x.size()) + "\n";
  }
  write_file_atomic(dir / "train.tsv", tsv);
  return dir / "train.tsv";
}

struct Epoch {
  std::vector<Batch> batches;
  std::map<int64_t, std::vector<float>> rows;  // item id -> its unpadded samples
};

Epoch run_epoch(Loader& loader, int64_t epoch, size_t skip = 0) {
  Epoch e;
  loader.start_epoch(epoch, skip);
  Batch b;
  while (loader.next(b)) {
    for (int64_t r = 0; r < b.size(); ++r) {
      const int64_t len = b.padding_mask.defined() ? (~b.padding_mask[r]).sum().item<int64_t>() : b.source.size(1);
      const float* p = b.source[r].data_ptr<float>();
      e.rows[b.ids[static_cast<size_t>(r)]] = std::vector<float>(p, p + len);
    }
    e.batches.push_back(b);
  }
  return e;
}

TEST(AugmentLoader, DeterministicForAnyWorkersAndResumeAndSizedByTheNewLengths) {
  test::TempDir dir("w2v_augment_loader");
  const std::string tsv = write_set(dir, 12);
  DatasetOptions o;
  o.pad = true;
  o.max_sample_size = 20000;  // u11 (20500) is cropped; u10 (19000) slowed to 0.8 would be 23750
  auto ds = std::make_shared<AudioDataset>(tsv, o);
  ASSERT_EQ(ds->size(), 12u);
  LoaderOptions lo;
  lo.max_tokens = 45000;
  lo.required_batch_size_multiple = 1;
  lo.seed = 5;
  lo.augment.speed = {0.8, 1.25};
  lo.augment.noise_prob = 0.5;

  std::vector<Epoch> runs;
  for (int workers : {0, 3}) {
    lo.num_workers = workers;
    Loader loader(ds, lo);
    runs.push_back(run_epoch(loader, 1));
  }
  ASSERT_EQ(runs[0].batches.size(), runs[1].batches.size());
  for (size_t i = 0; i < runs[0].batches.size(); ++i) {
    EXPECT_EQ(runs[0].batches[i].ids, runs[1].batches[i].ids);
    EXPECT_TRUE(torch::equal(runs[0].batches[i].source, runs[1].batches[i].source)) << i;
  }
  const Epoch& e1 = runs[0];
  ASSERT_EQ(e1.rows.size(), ds->size());
  std::set<double> speeds;
  int changed = 0;
  for (const auto& [id, row] : e1.rows) {
    const int64_t n = ds->num_samples(static_cast<size_t>(id));
    const int64_t len = static_cast<int64_t>(row.size());
    // Whole utterances: the length is exactly that of one of the speeds, never cropped (but u11,
    // longer than max_sample_size at speed 1); speed 1 only where 0.8 would exceed max_sample_size.
    for (double s : {0.8, 1.25, 1.0})
      if (len == augmented_length(n, s)) speeds.insert(s);
    EXPECT_TRUE(len != n || augmented_length(n, 0.8) > o.max_sample_size) << id;
    EXPECT_LE(len, o.max_sample_size) << id;
    if (row != ds->load(static_cast<size_t>(id))) ++changed;
  }
  EXPECT_TRUE(speeds.count(0.8) && speeds.count(1.25));
  EXPECT_EQ(changed, static_cast<int>(ds->size()));
  for (const Batch& b : e1.batches) EXPECT_LE(b.size() * b.source.size(1), lo.max_tokens);

  // Resuming mid-epoch gives the same augmented batches; a new epoch draws again.
  lo.num_workers = 2;
  Loader loader(ds, lo);
  const Epoch resumed = run_epoch(loader, 1, 2);
  ASSERT_EQ(resumed.batches.size(), e1.batches.size() - 2);
  EXPECT_TRUE(torch::equal(resumed.batches[0].source, e1.batches[2].source));
  const Epoch e2 = run_epoch(loader, 2);
  int differ = 0;
  for (const auto& [id, row] : e2.rows) differ += row != e1.rows.at(id);
  EXPECT_GT(differ, 0);
}

TEST(AugmentLoader, OffMeansTheFilesSamplesBitForBit) {
  test::TempDir dir("w2v_augment_loader_off");
  const std::string tsv = write_set(dir, 5);
  for (bool pad : {false, true}) {
    DatasetOptions o;
    o.pad = pad;
    auto ds = std::make_shared<AudioDataset>(tsv, o);
    LoaderOptions lo;
    lo.max_tokens = 100000;
    lo.max_sentences = 1;  // one item per batch: no pretraining crop
    lo.required_batch_size_multiple = 1;
    lo.augment.speed = {1.0};  // a speed list of 1.0 alone is off too
    Loader loader(ds, lo);
    const Epoch e = run_epoch(loader, 1);
    ASSERT_EQ(e.rows.size(), ds->size());
    for (const auto& [id, row] : e.rows) EXPECT_EQ(row, ds->load(static_cast<size_t>(id))) << id;
  }
}

}  // namespace
}  // namespace w2v::data
