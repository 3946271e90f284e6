// Dictionary, manifest, labels, dataset, batching and loader: fairseq parity through the
// oracles in tools/oracle/data_*.py, and the determinism of the prefetching loader.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <map>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "audio/helpers.h"
#include "data/batch.h"
#include "data/batching.h"
#include "data/dataset.h"
#include "data/dictionary.h"
#include "data/labels.h"
#include "data/loader.h"
#include "data/manifest.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::data {
namespace {

using test::must_run;
using test::TempDir;

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

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

// A LibriSpeech-shaped tree: spk/chapter/spk-chapter-NNNN.flac + spk-chapter.trans.txt.
struct Tree {
  std::vector<std::string> rel_paths;
  std::vector<std::string> texts;
};

Tree make_librispeech_tree(const std::string& root, int speakers, int per_chapter) {
  Tree tree;
  const std::vector<std::string> words = {"HELLO", "WORLD", "IT'S", "A", "SMALL", "TEST", "OF", "THE", "CORPUS"};
  std::mt19937 rng(7);
  for (int s = 0; s < speakers; ++s) {
    const std::string spk = std::to_string(100 + s * 17), chapter = std::to_string(2000 + s);
    const std::string dir = root + "/" + spk + "/" + chapter;
    std::filesystem::create_directories(dir);
    std::string trans;
    for (int u = 0; u < per_chapter; ++u) {
      char id[64];
      std::snprintf(id, sizeof id, "%s-%s-%04d", spk.c_str(), chapter.c_str(), u);
      std::vector<float> x(1600 + 397 * ((s * per_chapter + u) % 11));
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.05f * i * (1 + u));
      audio::write(dir + "/" + id + ".flac", x, 16000, audio::Encoding::kFlac16);
      std::string text;
      for (int w = 0; w < 2 + static_cast<int>(rng() % 5); ++w) text += (w ? " " : "") + words[rng() % words.size()];
      trans += std::string(id) + " " + text + "\n";
      tree.rel_paths.push_back(spk + "/" + chapter + "/" + id + ".flac");
      tree.texts.push_back(text);
    }
    write_text(dir + "/" + spk + "-" + chapter + ".trans.txt", trans);
  }
  return tree;
}

std::string w2v(const std::string& args) { return std::string(W2V_BINARY) + " " + args; }

TEST(CorpusTools, ManifestLabelsDictMatchFairseqScripts) {
  TempDir dir("w2v_data");
  const std::string root = dir / "LibriSpeech/dev";
  make_librispeech_tree(root, 4, 6);
  std::filesystem::create_directories(dir / "ours");
  std::filesystem::create_directories(dir / "ref");
  for (const std::string& options : {std::string("--valid-percent 0.3 --seed 42"),
                                     std::string("--valid-percent 0.5 --seed 7 --path-must-contain /134/")}) {
    SCOPED_TRACE(options);
    must_run(w2v("manifest " + root + " --dest " + dir / "ours" + " --ext flac " + options));
    must_run(test::oracle("data_manifest.py") + " manifest " + root + " --dest " + dir / "ref" + " --ext flac " + options);
    for (const std::string f : {"train.tsv", "valid.tsv"}) {
      EXPECT_EQ(read_file(dir / "ours/" + f), read_file(dir / "ref/" + f)) << f;
    }
  }
  // Full tree, default options, then labels and dict on it.
  must_run(w2v("manifest " + root + " --dest " + dir / "ours" + " --valid-percent 0.25"));
  must_run(test::oracle("data_manifest.py") + " manifest " + root + " --dest " + dir / "ref" + " --valid-percent 0.25");
  ASSERT_EQ(read_file(dir / "ours/train.tsv"), read_file(dir / "ref/train.tsv"));
  for (const std::string split : {"train", "valid"}) {
    must_run(w2v("labels " + dir / "ours/" + split + ".tsv --transcripts " + root + " --output-dir " + dir / "ours" +
                 " --output-name " + split));
    must_run(test::oracle("data_manifest.py") + " labels " + dir / "ref/" + split + ".tsv --output-dir " + dir / "ref" +
             " --output-name " + split);
    for (const std::string ext : {".ltr", ".wrd"})
      EXPECT_EQ(read_file(dir / "ours/" + split + ext), read_file(dir / "ref/" + split + ext)) << split << ext;
  }
  must_run(w2v("dict " + dir / "ours/train.ltr -o " + dir / "ours/dict.ltr.txt"));
  must_run(test::oracle("data_manifest.py") + " dict " + dir / "ref/train.ltr " + dir / "ref/dict.ltr.txt");
  EXPECT_EQ(read_file(dir / "ours/dict.ltr.txt"), read_file(dir / "ref/dict.ltr.txt"));

  // TSV transcripts (lower case in, upper case out).
  std::string tsv;
  const Manifest m = Manifest::load(dir / "ours/train.tsv");
  for (const ManifestEntry& e : m.entries) tsv += e.path + "\tsome  words for " + std::string(1, char('a' + e.path[1] % 26)) + "\n";
  write_text(dir / "texts.tsv", tsv);
  must_run(w2v("labels " + dir / "ours/train.tsv --transcripts " + dir / "texts.tsv --output-dir " +
               dir / "ours --output-name tsvmode"));
  must_run(test::oracle("data_manifest.py") + " labels " + dir / "ours/train.tsv --output-dir " + dir / "ref" +
           " --output-name tsvmode --tsv-transcripts " + dir / "texts.tsv");
  EXPECT_EQ(read_file(dir / "ours/tsvmode.ltr"), read_file(dir / "ref/tsvmode.ltr"));
  EXPECT_EQ(read_file(dir / "ours/tsvmode.wrd"), read_file(dir / "ref/tsvmode.wrd"));
}

TEST(CorpusTools, AllBadFilesAndBadTranscriptsAreReported) {
  TempDir dir("w2v_data");
  const std::string root = dir / "corpus";
  make_librispeech_tree(root, 1, 3);
  write_text(root + "/bad1.flac", "not audio");
  write_text(root + "/bad2.flac", "");
  // A FLAC cut in the middle: its header is fine, only decoding (--verify) finds it.
  const Manifest good = scan_audio_dir(root, ManifestOptions{}).train;
  const std::string longest = good.full_path(good.entries.size() - 1);
  must_run("head -c " + std::to_string(std::filesystem::file_size(longest) / 2) + " " + longest + " > " + root +
           "/cut.flac");
  std::string out;
  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "m"), &out), 1);
  EXPECT_NE(out.find("bad1.flac"), std::string::npos) << out;
  EXPECT_NE(out.find("bad2.flac"), std::string::npos) << out;
  EXPECT_NE(out.find("2 unreadable"), std::string::npos) << out;
  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "m --verify"), &out), 1);
  EXPECT_NE(out.find("cut.flac"), std::string::npos) << out;
  EXPECT_NE(out.find("3 unreadable"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "m/train.tsv"));

  std::filesystem::remove(root + "/bad1.flac");
  std::filesystem::remove(root + "/bad2.flac");
  std::filesystem::remove(root + "/cut.flac");
  must_run(w2v("manifest " + root + " --dest " + dir / "m --valid-percent 0"));
  const Manifest m = Manifest::load(dir / "m/train.tsv");
  ASSERT_EQ(m.entries.size(), 3u);
  write_text(dir / "t.tsv", m.entries[0].path + "\thello, world\n" + m.entries[2].path + "\tfine text\n");
  EXPECT_EQ(test::run(w2v("labels " + dir / "m/train.tsv --transcripts " + dir / "t.tsv --output-dir " + dir / "m" +
                          " --output-name train"),
                      &out),
            1);
  EXPECT_NE(out.find("','"), std::string::npos) << out;                      // the comma is reported
  EXPECT_NE(out.find(m.entries[1].path), std::string::npos) << out;          // the missing transcript too
  EXPECT_NE(out.find("2 entries without"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "m/train.ltr"));
}

// Regression: `manifest --verify` crashed (SIGSEGV) on a file that resamples to 0 samples and on
// a header rate of 2^31-1; both are now listed as bad files by name.
TEST(CorpusTools, VerifyReportsUnreadableRatesAndTooShortFiles) {
  TempDir dir("w2v_data");
  const std::string root = dir / "corpus";
  std::filesystem::create_directories(root);
  audio::write(root + "/ok.wav", std::vector<float>(1600, 0.1f), 16000);
  audio::write(root + "/one.wav", {0.5f}, 48000);
  audio::write(root + "/huge_rate.wav", std::vector<float>(100, 0.1f), 16000);
  {
    std::fstream f(root + "/huge_rate.wav", std::ios::in | std::ios::out | std::ios::binary);
    const uint32_t rate = 2147483647u;
    f.seekp(24);  // canonical WAV header: fmt chunk first, sample rate at byte 24
    f.write(reinterpret_cast<const char*>(&rate), 4);
  }
  std::string out;
  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "m --verify"), &out), 1) << out;
  EXPECT_NE(out.find("one.wav: audio too short"), std::string::npos) << out;
  EXPECT_NE(out.find("huge_rate.wav: unsupported sample rate 2147483647"), std::string::npos) << out;
  EXPECT_NE(out.find("2 unreadable"), std::string::npos) << out;
}

// Regression: names with a tab or newline were written unescaped and corrupted the TSV.
TEST(CorpusTools, NamesATsvCannotHoldAreRejectedByName) {
  TempDir dir("w2v_data");
  const std::string root = dir / "corpus";
  std::filesystem::create_directories(root + "/sub\tdir");
  audio::write(root + "/fine.wav", std::vector<float>(1600, 0.1f), 16000);
  audio::write(root + "/new\nline.wav", std::vector<float>(1600, 0.1f), 16000);
  audio::write(root + "/sub\tdir/a.wav", std::vector<float>(1600, 0.1f), 16000);
  const ManifestSplit split = scan_audio_dir(root, ManifestOptions{});
  EXPECT_EQ(split.train.entries.size(), 1u);
  ASSERT_EQ(split.bad_files.size(), 2u);
  std::string out;
  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "m"), &out), 1) << out;
  EXPECT_NE(out.find("new\\nline.wav: its name contains a newline"), std::string::npos) << out;
  EXPECT_NE(out.find("sub\\tdir/a.wav: its name contains a tab"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "m/train.tsv"));
  // Manifest::save refuses such a path too, whoever built the manifest.
  Manifest m;
  m.root = "/r";
  m.entries.push_back({"a\tb.wav", 10});
  const std::string e = error_of([&] { m.save(dir / "x.tsv"); });
  EXPECT_NE(e.find("a\\tb.wav"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tsv"));
}

// Issue 14: every container w2v reads is found by default, "nothing found" names --ext, no file
// leaves the split unless --valid-percent asks (and then the count is printed), --name names it.
TEST(CorpusTools, ManifestDefaultsNameAndExtensions) {
  TempDir dir("w2v_data");
  const std::string root = dir / "corpus";
  std::filesystem::create_directories(root);
  audio::write(root + "/a.wav", std::vector<float>(1600, 0.1f), 16000);
  audio::write(root + "/b.flac", std::vector<float>(1700, 0.1f), 16000, audio::Encoding::kFlac16);
  audio::write(root + "/c.ogg", std::vector<float>(16000, 0.1f), 16000, audio::Encoding::kOggVorbis);
  audio::write(root + "/D.WAV", std::vector<float>(1800, 0.1f), 16000);
  write_text(root + "/notes.txt", "not audio, not listed");
  std::string out = must_run(w2v("manifest " + root + " --dest " + dir / "m --name test"));
  EXPECT_NE(out.find("4 files in test.tsv"), std::string::npos) << out;
  const Manifest m = Manifest::load(dir / "m/test.tsv");
  ASSERT_EQ(m.entries.size(), 4u);
  EXPECT_EQ(m.entries[0].path, "D.WAV");
  EXPECT_EQ(m.entries[1].path, "a.wav");
  EXPECT_FALSE(std::filesystem::exists(dir / "m/train.tsv"));
  EXPECT_FALSE(std::filesystem::exists(dir / "m/valid.tsv"));

  out = must_run(w2v("manifest " + root + " --dest " + dir / "v --ext wav --valid-percent 0.5"));
  const size_t train = Manifest::load(dir / "v/train.tsv").entries.size(),
               valid = Manifest::load(dir / "v/valid.tsv").entries.size();
  EXPECT_EQ(train + valid, 2u);
  EXPECT_NE(out.find(std::to_string(valid) + " drawn into valid.tsv"), std::string::npos) << out;

  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "n --ext mp3"), &out), 1);
  EXPECT_NE(out.find("--ext"), std::string::npos) << out;
  EXPECT_NE(out.find("mp3"), std::string::npos) << out;
  EXPECT_EQ(test::run(w2v("manifest " + root + " --dest " + dir / "n --name valid --valid-percent 0.5"), &out), 1);
  EXPECT_NE(out.find("--name valid"), std::string::npos) << out;
  must_run(w2v("manifest " + root + " --dest " + dir / "n --name valid"));
  EXPECT_EQ(Manifest::load(dir / "n/valid.tsv").entries.size(), 4u);
}

// Issue 14: transcripts keyed by relative path, file name or utterance id; an id shared by two
// files is an error rather than one text for both; the manifest is one positional argument.
TEST(CorpusTools, LabelsAcceptPathNameOrIdKeys) {
  TempDir dir("w2v_data");
  write_text(dir / "m.tsv", "/r\nspk/one.wav\t100\nspk/two.flac\t100\nthree.wav\t100\n");
  write_text(dir / "t.tsv", "one\tfirst text\ntwo.flac\tsecond text\nthree.wav\tthird\n");
  must_run(w2v("labels " + dir / "m.tsv --transcripts " + dir / "t.tsv"));
  EXPECT_EQ(read_file(dir / "m.wrd"), "FIRST TEXT\nSECOND TEXT\nTHIRD\n");
  EXPECT_EQ(read_file(dir / "m.ltr"), "F I R S T | T E X T |\nS E C O N D | T E X T |\nT H I R D |\n");
  write_text(dir / "dup.tsv", "/r\na/1.wav\t100\nb/1.wav\t100\n");
  write_text(dir / "t2.tsv", "1\tsame id\n");
  std::string out;
  EXPECT_EQ(test::run(w2v("labels " + dir / "dup.tsv --transcripts " + dir / "t2.tsv"), &out), 1);
  EXPECT_NE(out.find("b/1.wav: transcript '1' matches this file and a/1.wav too"), std::string::npos) << out;
  EXPECT_EQ(test::run(w2v("labels --help"), &out), 0);
  EXPECT_EQ(out.find("--tsv"), std::string::npos) << out;
}

// Regression: a directory where a file is expected was read as an empty file.
TEST(CorpusTools, DirectoryWhereAFileBelongsIsAnError) {
  TempDir dir("w2v_data");
  std::filesystem::create_directories(dir / "d");
  for (const auto& load : std::vector<std::function<void()>>{
           [&] { Manifest::load(dir / "d"); }, [&] { Dictionary::load(dir / "d"); },
           [&] { read_labels(dir / "d"); }})
    EXPECT_NE(error_of(load).find(dir / "d: is a directory"), std::string::npos);
  std::string out;
  EXPECT_EQ(test::run(w2v("dict " + dir / "d -o " + dir / "dict.txt"), &out), 1);
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
}

// Regression: absurd --threads (1e9, negative) hung or were silently replaced. Every command
// that has --threads checks it at parse time with one message naming the flag (exit 2).
TEST(Cli, ThreadsOutOfRangeIsAUsageErrorNamingTheFlag) {
  const std::vector<std::string> commands = {"transcribe m.pt a.wav", "infer m.pt data", "extract m.pt a.wav",
                                             "train --config c.yaml"};
  for (const std::string& command : commands)
    for (const std::string bad : {"-1", "1e9", "1000000000", "257", "two"}) {
      std::string out;
      EXPECT_EQ(test::run(w2v(command + " --threads=" + bad), &out), 2) << command << " " << bad << "\n" << out;
      EXPECT_NE(out.find("--threads: expected 0 (all cores) or 1 to 256, got '" + bad + "'"), std::string::npos)
          << command << "\n" << out;
    }
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
    if (m.entries[i].num_samples < 2500 || m.entries[i].num_samples > 5000) continue;
    ASSERT_LT(kept, ds.size());
    EXPECT_EQ(ds.path(kept), m.full_path(i));
    EXPECT_EQ(ds.target(kept), set.dict->encode(ltr[i]));
    EXPECT_EQ(static_cast<int64_t>(ds.load(kept).size()), m.entries[i].num_samples);
    ++kept;
  }
  EXPECT_EQ(kept, ds.size());
  EXPECT_EQ(ds.skipped(), m.entries.size() - kept);
  EXPECT_GT(ds.skipped(), 0u);

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


std::set<std::string> lines_of(const std::string& path) {
  const std::vector<std::string> v = read_labels(path);
  return {v.begin(), v.end()};
}

// recipes/synth/make_corpus.sh: the same seed gives the same corpus, whether the fairseq files
// come from `w2v manifest/labels/dict` or from the script's own writer; test sentences are held
// out of train, valid and the LM text; one voice is heard only in test.
TEST(SynthCorpus, DeterministicHeldOutAndLoadable) {
  TempDir dir("w2v_corpus");
  const std::string script = std::string(W2V_SOURCE_DIR) + "/recipes/synth/make_corpus.sh";
  const std::string args = " --utterances 40 --task digits --seed 5 --test-percent 0.25 --noise-prob 0.5";
  must_run("W2V=" + std::string(W2V_BINARY) + " " + script + " " + dir / "a" + args);
  must_run("W2V=none " + script + " " + dir / "b" + args);
  for (const std::string split : {"train", "valid", "test"}) {
    for (const std::string ext : {".ltr", ".wrd"})
      EXPECT_EQ(read_file(dir / "a/" + split + ext), read_file(dir / "b/" + split + ext)) << split << ext;
    const Manifest a = Manifest::load(dir / "a/" + split + ".tsv"), b = Manifest::load(dir / "b/" + split + ".tsv");
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i) {
      EXPECT_EQ(a.entries[i].path, b.entries[i].path);
      EXPECT_EQ(a.entries[i].num_samples, b.entries[i].num_samples);
      EXPECT_EQ(read_file(a.full_path(i)), read_file(b.full_path(i))) << a.entries[i].path;
      const audio::Info info = audio::info(a.full_path(i));
      EXPECT_EQ(info.sample_rate, 16000);
      EXPECT_EQ(info.channels, 1);
    }
  }
  EXPECT_EQ(read_file(dir / "a/dict.ltr.txt"), read_file(dir / "b/dict.ltr.txt"));
  EXPECT_EQ(read_file(dir / "a/lm.txt"), read_file(dir / "b/lm.txt"));

  const std::set<std::string> test = lines_of(dir / "a/test.wrd");
  EXPECT_EQ(test.size(), 10u);
  for (const std::string other : {"train.wrd", "valid.wrd", "lm.txt"})
    for (const std::string& s : lines_of(dir / "a/" + other)) EXPECT_EQ(test.count(s), 0u) << s << " in " << other;

  // The small-vocabulary task is closed: every test word is in the LM text.
  std::set<std::string> lm_words;
  for (const std::string& s : lines_of(dir / "a/lm.txt")) {
    std::istringstream words(s);
    for (std::string w; words >> w;) lm_words.insert(w);
  }
  for (const std::string& s : test) {
    std::istringstream words(s);
    for (std::string w; words >> w;) EXPECT_EQ(lm_words.count(w), 1u) << w;
  }

  std::map<std::string, std::set<std::string>> voices;  // split -> voices
  const std::vector<std::string> rows = read_labels(dir / "a/utterances.tsv");
  for (size_t i = 1; i < rows.size(); ++i) {
    std::istringstream row(rows[i]);
    std::string id, split, voice;
    std::getline(row, id, '\t');
    std::getline(row, split, '\t');
    std::getline(row, voice, '\t');
    voices[split].insert(voice);
  }
  size_t unseen = 0;
  for (const std::string& v : voices["test"]) unseen += voices["train"].count(v) == 0;
  EXPECT_GE(unseen, 1u);
  EXPECT_GE(voices["train"].size(), 5u);

  auto dict = std::make_shared<Dictionary>(Dictionary::load(dir / "a/dict.ltr.txt"));
  DatasetOptions o;
  o.pad = true;
  AudioDataset ds(dir / "a/train.tsv", o, dir / "a/train.ltr", dict);
  EXPECT_EQ(ds.size(), 28u);
  for (size_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(static_cast<int64_t>(ds.load(i).size()), ds.num_samples(i));
    for (int64_t t : ds.target(i)) EXPECT_NE(t, Dictionary::kUnk);
  }
}

}  // namespace
}  // namespace w2v::data
