// Dictionary, manifest, labels, dataset, batching and loader: fairseq parity through the
// oracles in tools/oracle/data_*.py, and the determinism of the prefetching loader (the corpus
// commands that write their inputs are tested in test_corpus_tools.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <tuple>

#include "audio/helpers.h"
#include "data/batch.h"
#include "data/batching.h"
#include "data/corpus_tree.h"
#include "data/dataset.h"
#include "data/dictionary.h"
#include "data/labels.h"
#include "data/loader.h"
#include "data/manifest.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::data {
namespace {

using test::error_of;
using test::make_librispeech_tree;
using test::must_run;
using test::TempDir;
using test::w2v;
using test::write_text;

TEST(Dictionary, FairseqLayoutAndEncoding) {
  TempDir dir("w2v_data");
  write_text(dir / "dict.ltr.txt", "| 10\nE 7\nT 5\nX 1 #fairseq:overwrite\n");
  const Dictionary d = Dictionary::load(dir / "dict.ltr.txt");
  ASSERT_EQ(d.size(), 8);
  EXPECT_EQ(d.symbol(0), "<s>");
  EXPECT_EQ(d.symbol(1), "<pad>");
  EXPECT_EQ(d.symbol(2), "</s>");
  EXPECT_EQ(d.symbol(3), "<unk>");
  EXPECT_EQ(d.index("|"), 4);
  EXPECT_EQ(d.index("T"), 6);
  EXPECT_EQ(d.encode("T E  Q |"), (std::vector<int64_t>{6, 5, Dictionary::kUnk, 4}));
  EXPECT_EQ(d.decode({6, 5, 4}), "T E |");

  write_text(dir / "bad.txt", "| 10\nE seven\n");
  std::string e = error_of([&] { Dictionary::load(dir / "bad.txt"); });
  EXPECT_NE(e.find(dir / "bad.txt:2"), std::string::npos) << e;
  write_text(dir / "dup.txt", "| 10\nE 7\n| 3\n");
  e = error_of([&] { Dictionary::load(dir / "dup.txt"); });
  EXPECT_NE(e.find(dir / "dup.txt:3"), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate"), std::string::npos) << e;
}

TEST(Manifest, LoadErrorsNameTheLine) {
  TempDir dir("w2v_data");
  write_text(dir / "a.tsv", "/root\na.flac\t100\nb.flac 200\n");
  const std::string e = error_of([&] { Manifest::load(dir / "a.tsv"); });
  EXPECT_NE(e.find(dir / "a.tsv:3"), std::string::npos) << e;
  EXPECT_NE(e.find("relative/path<TAB>num_samples"), std::string::npos) << e;
  write_text(dir / "b.tsv", "/root\na.flac\t100\nb.flac\t200\n");
  const Manifest m = Manifest::load(dir / "b.tsv");
  EXPECT_EQ(m.root, "/root");
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[1].num_samples, 200);
  EXPECT_EQ(m.full_path(1), "/root/b.flac");
}

TEST(Labels, LettersLikeLibriLabels) {
  EXPECT_EQ(letters("HELLO WORLD"), "H E L L O | W O R L D |");
  EXPECT_EQ(letters("IT'S"), "I T ' S |");
  EXPECT_EQ(invalid_characters("HELLO, WORLD!"), ",!");
  EXPECT_EQ(invalid_characters("DON'T STOP"), "");
}

// A small fine-tuning set: manifest + .ltr + dict, lengths 1600..(1600 + 397*10).
struct SmallSet {
  TempDir dir{"w2v_data"};
  std::string tsv, ltr;
  std::shared_ptr<Dictionary> dict;
  SmallSet(int speakers = 3, int per_chapter = 7) {
    const std::string root = dir / "corpus";
    make_librispeech_tree(root, speakers, per_chapter);
    must_run(w2v("manifest " + root + " --dest " + dir.str() + " --valid-percent 0"));
    must_run(w2v("labels " + dir / "train.tsv --transcripts " + root + " --output-dir " + dir.str() +
                 " --output-name train"));
    must_run(w2v("dict " + dir / "train.ltr -o " + dir / "dict.ltr.txt"));
    tsv = dir / "train.tsv";
    ltr = dir / "train.ltr";
    dict = std::make_shared<Dictionary>(Dictionary::load(dir / "dict.ltr.txt"));
  }
};

TEST(Dataset, SizeFiltersSkipTheSameLabelLines) {
  SmallSet set;
  const Manifest m = Manifest::load(set.tsv);
  const std::vector<std::string> ltr = read_labels(set.ltr);
  DatasetOptions o;
  o.pad = true;
  o.min_sample_size = 2500;
  o.max_sample_size = 5000;
  AudioDataset ds(set.tsv, o, set.ltr, set.dict);
  size_t kept = 0;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (m.entries[i].num_samples < 2500) continue;  // max_sample_size filters nothing
    ASSERT_LT(kept, ds.size());
    EXPECT_EQ(ds.path(kept), m.full_path(i));
    EXPECT_EQ(ds.target(kept), set.dict->encode(ltr[i]));
    EXPECT_EQ(static_cast<int64_t>(ds.load(kept).size()), m.entries[i].num_samples);
    ++kept;
  }
  EXPECT_EQ(kept, ds.size());
  EXPECT_EQ(ds.skipped(), m.entries.size() - kept);
  EXPECT_GT(ds.skipped(), 0u);
  // An item longer than max_sample_size stays, as in fairseq, and collate crops it: in
  // fine-tuning too, with its whole transcript.
  size_t longest = 0;
  for (size_t k = 1; k < ds.size(); ++k)
    if (ds.num_samples(k) > ds.num_samples(longest)) longest = k;
  DatasetOptions capped = o;
  capped.max_sample_size = ds.num_samples(longest) - 100;
  AudioDataset cropped(set.tsv, capped, set.ltr, set.dict);
  EXPECT_EQ(cropped.size(), ds.size());
  EXPECT_EQ(cropped.batch_size_of(longest), ds.num_samples(longest));  // fairseq's num_tokens: the full length
  const Batch b = collate(cropped, {static_cast<int64_t>(longest)}, 7);
  EXPECT_EQ(b.source.size(1), capped.max_sample_size);
  EXPECT_EQ(b.target_lengths[0].item<int64_t>(), static_cast<int64_t>(cropped.target(longest).size()));

  write_text(set.dir / "short.ltr", "A |\n");
  const std::string e = error_of([&] { AudioDataset(set.tsv, o, set.dir / "short.ltr", set.dict); });
  EXPECT_NE(e.find(set.dir / "short.ltr"), std::string::npos) << e;
  EXPECT_NE(e.find(set.tsv), std::string::npos) << e;
}

TEST(Batching, BatchBySizeMatchesFairseq) {
  TempDir dir("w2v_data");
  nlohmann::json in;
  std::vector<std::tuple<std::vector<int64_t>, std::vector<int64_t>, int64_t, int64_t, int64_t>> cases;
  std::mt19937 rng(3);
  for (int c = 0; c < 12; ++c) {
    std::vector<int64_t> sizes(50 + rng() % 200);
    for (auto& s : sizes) s = 1000 + rng() % (c % 3 == 0 ? 5 : 30000);  // some with many ties
    const auto order = ordered_indices(sizes, c % 2 == 0, 100 + c);
    const int64_t max_tokens = c % 4 == 3 ? 0 : 40000 + rng() % 200000;
    const int64_t max_sentences = c % 4 == 3 ? 7 : (c % 5 == 0 ? 5 : 0);
    const int64_t mult = c % 3 == 2 ? 1 : 8;
    cases.emplace_back(order, sizes, max_tokens, max_sentences, mult);
    in["batch_by_size"].push_back(
        {{"indices", order}, {"sizes", sizes}, {"max_tokens", max_tokens}, {"max_sentences", max_sentences}, {"mult", mult}});
  }
  write_text(dir / "in.json", in.dump());
  must_run(test::oracle("data_batching.py") + " " + dir / "in.json " + dir / "out.json");
  const nlohmann::json out = nlohmann::json::parse(read_file(dir / "out.json"));
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto& [order, sizes, max_tokens, max_sentences, mult] = cases[c];
    const BatchIndices ours = batch_by_size(order, sizes, max_tokens, max_sentences, mult);
    EXPECT_EQ(ours, out["batch_by_size"][c].get<BatchIndices>()) << "case " << c;
    EXPECT_GT(ours.size(), 1u);
  }
}

TEST(Batching, OrderShuffleAndShards) {
  const std::vector<int64_t> sizes = {5, 9, 5, 7, 9, 5, 1};
  const auto a = ordered_indices(sizes, true, 1);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_GE(sizes[a[i - 1]], sizes[a[i]]);
  EXPECT_EQ(ordered_indices(sizes, false, 0), (std::vector<int64_t>{4, 1, 3, 5, 2, 0, 6}));
  std::set<std::vector<int64_t>> tie_orders;
  for (uint64_t s = 0; s < 20; ++s) tie_orders.insert(ordered_indices(sizes, true, s));
  EXPECT_GT(tie_orders.size(), 3u);  // ties really are broken at random

  BatchIndices b;
  for (int64_t i = 0; i < 11; ++i) b.push_back({i});
  BatchIndices shuffled = b;
  shuffle_batches(shuffled, 5);
  EXPECT_NE(shuffled, b);
  std::set<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    const BatchIndices s = shard_batches(shuffled, rank, 3);
    EXPECT_EQ(s.size(), 3u);
    for (const auto& batch : s) EXPECT_TRUE(seen.insert(batch[0]).second);
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_THROW(shard_batches(b, 3, 3), Error);
}

TEST(Collate, PaddingMatchesFairseqCollater) {
  TempDir dir("w2v_data");
  const std::vector<std::vector<float>> audio = {{0.1f, 0.2f, 0.3f}, {1, 2, 3, 4, 5}, {-1}};
  const std::vector<std::vector<int64_t>> targets = {{4, 5}, {6, 7, 8, 9}, {}};
  nlohmann::json in;
  in["collate"] = {{"audio", audio}, {"targets", targets}, {"pad_idx", Dictionary::kPad}};
  write_text(dir / "in.json", in.dump());
  must_run(test::oracle("data_batching.py") + " " + dir / "in.json " + dir / "out.json");
  const nlohmann::json ref = nlohmann::json::parse(read_file(dir / "out.json"))["collate"];
  const Batch b = collate(audio, targets, {10, 11, 12}, true, 0, 1);
  auto to_vec2 = [](const torch::Tensor& t, auto type) {
    using T = decltype(type);
    std::vector<std::vector<T>> v(t.size(0));
    auto c = t.contiguous();
    for (int64_t i = 0; i < t.size(0); ++i)
      for (int64_t j = 0; j < t.size(1); ++j) v[i].push_back(c[i][j].item<T>());
    return v;
  };
  EXPECT_EQ(to_vec2(b.source, float{}), ref["source"].get<std::vector<std::vector<float>>>());
  EXPECT_EQ(to_vec2(b.padding_mask, bool{}), ref["padding_mask"].get<std::vector<std::vector<bool>>>());
  EXPECT_EQ(to_vec2(b.target, int64_t{}), ref["target"].get<std::vector<std::vector<int64_t>>>());
  EXPECT_EQ(b.ntokens, ref["ntokens"].get<int64_t>());
  std::vector<int64_t> lengths(b.target_lengths.data_ptr<int64_t>(), b.target_lengths.data_ptr<int64_t>() + 3);
  EXPECT_EQ(lengths, ref["target_lengths"].get<std::vector<int64_t>>());
  EXPECT_EQ(b.ids, (std::vector<int64_t>{10, 11, 12}));
}

TEST(Collate, PretrainingCropsToShortestAtRandomOffsets) {
  std::vector<std::vector<float>> audio;
  for (int n : {40, 25, 60, 33}) {
    std::vector<float> a(n);
    for (int i = 0; i < n; ++i) a[i] = static_cast<float>(i);
    audio.push_back(a);
  }
  std::set<float> starts;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const Batch b = collate(audio, {}, {0, 1, 2, 3}, false, 0, seed);
    ASSERT_EQ(b.source.sizes(), (std::vector<int64_t>{4, 25}));
    EXPECT_FALSE(b.padding_mask.defined());
    EXPECT_FALSE(b.target.defined());
    for (int64_t i = 0; i < 4; ++i) {
      const float start = b.source[i][0].item<float>();
      EXPECT_LE(start + 24, static_cast<float>(audio[i].size() - 1));
      for (int64_t j = 0; j < 25; ++j) ASSERT_EQ(b.source[i][j].item<float>(), start + j);  // contiguous slice
      starts.insert(start + 1000 * i);
    }
    // Capped at max_sample_size.
    EXPECT_EQ(collate(audio, {}, {0, 1, 2, 3}, false, 20, seed).source.size(1), 20);
  }
  EXPECT_GT(starts.size(), 12u);  // offsets vary with the seed
}

std::vector<Batch> epoch(Loader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ids, b[i].ids);
    EXPECT_TRUE(torch::equal(a[i].source, b[i].source)) << "batch " << i;
    EXPECT_EQ(a[i].padding_mask.defined(), b[i].padding_mask.defined());
    if (a[i].target.defined()) EXPECT_TRUE(torch::equal(a[i].target, b[i].target));
  }
}

TEST(Loader, DeterministicForAnyNumberOfWorkers) {
  SmallSet set(3, 9);
  for (bool pad : {false, true}) {
    SCOPED_TRACE(pad ? "fine-tuning" : "pretraining");
    DatasetOptions o;
    o.pad = pad;
    o.max_sample_size = pad ? 0 : 3000;
    auto ds = std::make_shared<AudioDataset>(set.tsv, o, set.ltr, set.dict);
    LoaderOptions lo;
    lo.max_tokens = 12000;
    lo.required_batch_size_multiple = 1;
    lo.seed = 9;
    std::vector<std::vector<Batch>> runs;
    for (int workers : {0, 1, 3}) {
      lo.num_workers = workers;
      lo.prefetch = workers == 3 ? 2 : 4;
      Loader loader(ds, lo);
      runs.push_back(epoch(loader, 1));
      if (workers == 3) {
        const std::vector<Batch> e2 = epoch(loader, 2);
        EXPECT_NE(e2.front().ids, runs.back().front().ids);  // a new epoch shuffles differently
        expect_same(epoch(loader, 1), runs.back());           // and epoch 1 is reproducible
      }
    }
    expect_same(runs[0], runs[1]);
    expect_same(runs[0], runs[2]);
    // Every item once per epoch; pretraining crops are within the cap.
    std::set<int64_t> ids;
    for (const Batch& b : runs[0]) {
      for (int64_t id : b.ids) EXPECT_TRUE(ids.insert(id).second);
      EXPECT_LE(b.size() * b.source.size(1), lo.max_tokens);
      if (!pad) EXPECT_LE(b.source.size(1), 3000);
      EXPECT_EQ(b.ntokens, b.target_lengths.sum().item<int64_t>());
    }
    EXPECT_EQ(ids.size(), ds->size());
    // Resuming mid-epoch continues with the same batches.
    lo.num_workers = 2;
    Loader resumed(ds, lo);
    resumed.start_epoch(1, 2);
    Batch b;
    ASSERT_TRUE(resumed.next(b));
    EXPECT_TRUE(torch::equal(b.source, runs[0][2].source));
  }
}

TEST(Loader, WorkerErrorsReachTheConsumer) {
  SmallSet set(1, 4);
  Manifest m = Manifest::load(set.tsv);
  const std::string victim = m.full_path(1);
  write_text(victim, "garbage");
  auto ds = std::make_shared<AudioDataset>(set.tsv, DatasetOptions{}, "", nullptr);
  LoaderOptions lo;
  lo.max_tokens = 100000;
  lo.max_sentences = 1;
  lo.required_batch_size_multiple = 1;
  lo.num_workers = 2;
  Loader loader(ds, lo);
  loader.start_epoch(1);
  const std::string e = error_of([&] {
    Batch b;
    while (loader.next(b)) {
    }
  });
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find(set.tsv + ":3"), std::string::npos) << e;
}
}  // namespace
}  // namespace w2v::data
