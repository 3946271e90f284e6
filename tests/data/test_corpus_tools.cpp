// The corpus commands (w2v manifest, labels, dict) against fairseq's scripts through the oracles
// in tools/oracle/data_*.py, their errors on bad input, and recipes/synth/make_corpus.sh.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "audio/helpers.h"
#include "data/corpus_tree.h"
#include "data/dataset.h"
#include "data/dictionary.h"
#include "data/labels.h"
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
