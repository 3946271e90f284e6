// `w2v pseudo-label` on stored emissions with a tiny lexicon + LM: the kept rows load as a
// fairseq training split (manifest, .wrd and .ltr aligned), confidences are in (0, 1] and rank a
// clean utterance above a blurred one, --min-confidence filters, empty hypotheses are never kept,
// the report line counts, and bad input is one error line.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/run_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/labels.h"
#include "data/manifest.h"
#include "decode/emission_file.h"
#include "decode/tokens.h"

namespace w2v::decode {
namespace {

using w2v::test::run_command;
namespace fs = std::filesystem;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "K", "T", "D", "O", "G"};

// Emissions spelling `letters` ('|' = word end), each letter 2 frames then a blank; `margin` is
// how far each letter's score stands above the runner-up (a neighbouring letter): small margins
// make the path's posteriors, and so the confidence, low.
EmissionMatrix spell(uint64_t id, const std::string& letters, float margin) {
  const TokenSet tokens(kSymbols);
  const int V = tokens.size();
  EmissionMatrix u;
  u.id = std::to_string(id);
  u.vocab = V;
  auto frame = [&](int best, int second, float gap) {
    std::vector<float> row(V, -8.f);
    row[best] = 4.f;
    if (second >= 0) row[second] = 4.f - gap;
    u.data.insert(u.data.end(), row.begin(), row.end());
    ++u.frames;
  };
  for (char c : letters) {
    const int token = tokens.index(std::string(1, c));
    const int runner_up = token + 1 < V ? token + 1 : 5;
    frame(token, runner_up, margin);
    frame(token, runner_up, margin);
    frame(0, -1, 0);
  }
  return u;
}

// Blank all along: the decoders find no word.
EmissionMatrix silence(uint64_t id, int frames) {
  EmissionMatrix u;
  u.id = std::to_string(id);
  u.vocab = static_cast<int>(kSymbols.size());
  u.frames = frames;
  for (int t = 0; t < frames; ++t)
    for (int v = 0; v < u.vocab; ++v) u.data.push_back(v == 0 ? 4.f : -8.f);
  return u;
}

struct Row {
  std::string path, hypothesis;
  double confidence = 0;
  bool kept = false;
};

std::vector<Row> read_confidences(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "path\tconfidence\tkept\thypothesis");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Row r;
    std::string confidence, kept;
    std::getline(fields, r.path, '\t');
    std::getline(fields, confidence, '\t');
    std::getline(fields, kept, '\t');
    std::getline(fields, r.hypothesis);
    r.confidence = std::stod(confidence);
    EXPECT_TRUE(kept == "0" || kept == "1") << line;
    r.kept = kept == "1";
    rows.push_back(r);
  }
  return rows;
}

class PseudoLabelCli : public ::testing::Test {
 protected:
  // A folder per process: ctest runs this suite's tests in parallel processes.
  void TearDown() override { fs::remove_all(dir_); }
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("pseudo_label_cli_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    data_ = dir_ / "data";
    fs::create_directories(data_);
    std::ofstream(data_ / "dict.ltr.txt") << "| 10\nA 5\nC 4\nK 3\nT 3\nD 2\nO 2\nG 1\n";
    // 1.5 + 0.5 + 1 + 0.5 minutes of audio; no labels: the split is unlabeled.
    std::ofstream(data_ / "train.tsv") << "/audio/root\nclean.wav\t1440000\nblurred.wav\t480000\n"
                                          "silent.wav\t960000\nshort.wav\t480000\n";
    std::ofstream(dir_ / "lexicon.txt") << "CAT C A T |\nKAT K A T |\nDOG D O G |\n";
    std::ofstream(dir_ / "lm.arpa") << "\\data\\\nngram 1=6\n\n\\1-grams:\n-2.0\t<unk>\n-99\t<s>\n-0.5\t</s>\n"
                                       "-0.3\tCAT\n-3.0\tKAT\n-0.4\tDOG\n\n\\end\\\n";
    write_emissions((dir_ / "em.bin").string(), {spell(0, "CAT|DOG|", 6.f), spell(1, "DOG|", 0.3f),
                                                 silence(2, 20), spell(3, "CAT|", 2.f)});
  }

  // pseudo-label on the stored emissions with the lexicon decoder; returns the exit status.
  int pseudo_label(const std::string& args, std::string& out, const std::string& subset = "train") {
    return run_command(std::string(W2V_BINARY) + " pseudo-label " + data_.string() + " --subset " + subset +
                           " --load-emissions " +
                           (dir_ / "em.bin").string() + " --lexicon " + (dir_ / "lexicon.txt").string() + " --lm " +
                           (dir_ / "lm.arpa").string() + " " + args,
                       out);
  }

  fs::path dir_, data_;
};

TEST_F(PseudoLabelCli, WritesAlignedTrainingSplitOfNonEmptyHypotheses) {
  const fs::path out_dir = dir_ / "out";
  std::string out;
  ASSERT_EQ(pseudo_label("-o " + out_dir.string() + " --min-confidence 0", out), 0) << out;

  const auto rows = read_confidences(out_dir / "train.confidence.tsv");
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::string> paths = {"clean.wav", "blurred.wav", "silent.wav", "short.wav"};
  const std::vector<std::string> words = {"CAT DOG", "DOG", "", "CAT"};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].path, paths[i]);
    EXPECT_EQ(rows[i].hypothesis, words[i]);
    EXPECT_GT(rows[i].confidence, 0.0) << paths[i];
    EXPECT_LE(rows[i].confidence, 1.0) << paths[i];
    EXPECT_EQ(rows[i].kept, !words[i].empty()) << paths[i];  // threshold 0: all but the empty one
  }
  // Clearer acoustics, higher confidence.
  EXPECT_GT(rows[0].confidence, rows[3].confidence);
  EXPECT_GT(rows[3].confidence, rows[1].confidence);

  // The output loads as a training split: manifest and labels aligned, input order, same root.
  const auto manifest = data::Manifest::load((out_dir / "train.tsv").string());
  EXPECT_EQ(manifest.root, "/audio/root");
  ASSERT_EQ(manifest.entries.size(), 3u);
  EXPECT_EQ(manifest.entries[0].path, "clean.wav");
  EXPECT_EQ(manifest.entries[1].path, "blurred.wav");
  EXPECT_EQ(manifest.entries[2].path, "short.wav");
  EXPECT_EQ(manifest.entries[2].num_samples, 480000);
  const auto wrd = data::read_labels((out_dir / "train.wrd").string());
  const auto ltr = data::read_labels((out_dir / "train.ltr").string());
  EXPECT_EQ(wrd, (std::vector<std::string>{"CAT DOG", "DOG", "CAT"}));
  EXPECT_EQ(ltr, (std::vector<std::string>{"C A T | D O G |", "D O G |", "C A T |"}));
  std::stringstream dict;
  dict << std::ifstream(out_dir / "dict.ltr.txt").rdbuf();
  EXPECT_EQ(dict.str(), "| 10\nA 5\nC 4\nK 3\nT 3\nD 2\nO 2\nG 1\n");

  const double mean_kept = (rows[0].confidence + rows[1].confidence + rows[3].confidence) / 3;
  EXPECT_NE(out.find("kept 3 of 4 utterances (2.5 of 3.5 minutes of audio) at --min-confidence 0; mean confidence " +
                     fmt::format("{:.3f}", mean_kept) + " kept, - dropped (not counting 1 empty)"),
            std::string::npos)
      << out;
}

TEST_F(PseudoLabelCli, HigherThresholdKeepsFewer) {
  std::string out;
  ASSERT_EQ(pseudo_label("-o " + (dir_ / "all").string(), out), 0) << out;
  const auto all = read_confidences(dir_ / "all" / "train.confidence.tsv");
  ASSERT_EQ(all.size(), 4u);
  // Between the blurred and the short utterance: keeps clean and short only.
  const double threshold = (all[1].confidence + all[3].confidence) / 2;
  ASSERT_EQ(pseudo_label("-o " + (dir_ / "some").string() + " --min-confidence " + std::to_string(threshold), out), 0)
      << out;
  const auto some = read_confidences(dir_ / "some" / "train.confidence.tsv");
  ASSERT_EQ(some.size(), 4u);
  for (size_t i = 0; i < some.size(); ++i) {
    EXPECT_EQ(some[i].confidence, all[i].confidence);  // the threshold does not change the decoding
    EXPECT_EQ(some[i].kept, !some[i].hypothesis.empty() && some[i].confidence >= threshold) << some[i].path;
  }
  EXPECT_EQ(data::read_labels((dir_ / "some" / "train.wrd").string()), (std::vector<std::string>{"CAT DOG", "CAT"}));
  EXPECT_EQ(data::Manifest::load((dir_ / "some" / "train.tsv").string()).entries.size(), 2u);
  EXPECT_NE(out.find("kept 2 of 4 utterances (2.0 of 3.5 minutes of audio)"), std::string::npos) << out;
  EXPECT_NE(out.find(fmt::format("{:.3f} dropped (not counting 1 empty)", all[1].confidence)), std::string::npos) << out;

  // Above every confidence: nothing kept, and the files are still a (empty) split.
  ASSERT_EQ(pseudo_label("-o " + (dir_ / "none").string() + " --min-confidence 1", out), 0) << out;
  EXPECT_NE(out.find("kept 0 of 4 utterances (0.0 of 3.5 minutes of audio)"), std::string::npos) << out;
  EXPECT_TRUE(data::read_labels((dir_ / "none" / "train.ltr").string()).empty());
}

TEST_F(PseudoLabelCli, BadInputIsOneErrorLine) {
  std::string out;
  // A split that is not there.
  EXPECT_EQ(pseudo_label("-o " + (dir_ / "o").string(), out, "nope"), 1) << out;
  EXPECT_NE(out.find("nope.tsv"), std::string::npos) << out;
  // An output directory that cannot be made (its parent is a file).
  std::ofstream(dir_ / "file") << "x";
  EXPECT_EQ(pseudo_label("-o " + (dir_ / "file" / "out").string(), out), 1) << out;
  EXPECT_NE(out.find("cannot create the output directory"), std::string::npos) << out;
  // The input manifest is never the output; another name in the same directory is fine.
  EXPECT_EQ(pseudo_label("-o " + data_.string(), out), 1) << out;
  EXPECT_NE(out.find("would overwrite the input"), std::string::npos) << out;
  EXPECT_EQ(data::Manifest::load((data_ / "train.tsv").string()).entries.size(), 4u);
  ASSERT_EQ(pseudo_label("-o " + data_.string() + " --output-name pseudo", out), 0) << out;
  EXPECT_EQ(data::Manifest::load((data_ / "pseudo.tsv").string()).entries.size(), 3u);
  EXPECT_EQ(data::Manifest::load((data_ / "train.tsv").string()).entries.size(), 4u);
  // A threshold outside [0, 1] is a usage error.
  EXPECT_EQ(pseudo_label("-o " + (dir_ / "o").string() + " --min-confidence 1.5", out), 2) << out;
  EXPECT_NE(out.find("--min-confidence"), std::string::npos) << out;
  // Emissions for fewer utterances than the manifest lists.
  write_emissions((dir_ / "em.bin").string(), {spell(0, "CAT|", 6.f)});
  EXPECT_EQ(pseudo_label("-o " + (dir_ / "o").string(), out), 1) << out;
  EXPECT_NE(out.find("expected emissions for the 4 entries"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "o" / "train.tsv"));
}

}  // namespace
}  // namespace w2v::decode
