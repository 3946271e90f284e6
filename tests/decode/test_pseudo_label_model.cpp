// `w2v pseudo-label` with a real (tiny, random) CTC checkpoint: it runs the model as `w2v infer`
// does (same emissions, through the helper they share) and labels each utterance with what infer
// decodes for it, keeping only hypotheses made of letters.
#include <gtest/gtest.h>

#include "common/run_command.h"

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "audio/audio.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/emission_file.h"
#include "recognizer/tiny_ctc.h"

namespace w2v::decode {
namespace {

using w2v::test::run_command;
namespace fs = std::filesystem;

TEST(PseudoLabelModel, LabelsWithWhatInferDecodes) {
  const fs::path dir = fs::path(::testing::TempDir()) / "pseudo_label_model";
  fs::remove_all(dir);
  fs::create_directories(dir);
  test::save_tiny_ctc((dir / "model.pt").string(), "default");
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 0.2f);
  std::string tsv = dir.string() + "\n";
  for (int i = 0; i < 3; ++i) {
    std::vector<float> wave(9000 + 4000 * i);
    for (auto& x : wave) x = g(rng);
    audio::write((dir / fmt::format("u{}.wav", i)).string(), wave, audio::kSampleRate, audio::Encoding::kFloat);
    tsv += fmt::format("u{}.wav\t{}\n", i, wave.size());
  }
  std::ofstream(dir / "train.tsv") << tsv;
  // infer needs references; pseudo-label does not read them.
  std::ofstream(dir / "train.ltr") << "A |\nB |\nC |\n";

  std::string out;
  const std::string model = (dir / "model.pt").string();
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " infer " + model + " " + dir.string() + " --subset train " +
                            "--decoder viterbi --results-path " + (dir / "infer").string() + " --dump-emissions " +
                            (dir / "infer.em").string(),
                        out),
            0)
      << out;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " pseudo-label " + model + " " + dir.string() +
                            " --subset train --decoder viterbi -o " + (dir / "pl").string() + " --dump-emissions " +
                            (dir / "pl.em").string(),
                        out),
            0)
      << out;
  EXPECT_NE(out.find(" of 3 utterances"), std::string::npos) << out;

  const auto from_infer = read_emissions((dir / "infer.em").string());
  const auto from_pseudo = read_emissions((dir / "pl.em").string());
  ASSERT_EQ(from_infer.size(), 3u);
  ASSERT_EQ(from_pseudo.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(from_pseudo[i].data, from_infer[i].data) << "utterance " << i;

  // infer's hypotheses ("TEXT (None-i)" lines) against the confidence table's.
  std::ifstream hypo(dir / "infer" / "hypo.word-model.pt-train.txt");
  std::ifstream table(dir / "pl" / "train.confidence.tsv");
  std::string line, row;
  std::getline(table, row);  // header
  std::vector<std::string> kept;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(std::getline(hypo, line));
    ASSERT_TRUE(std::getline(table, row));
    const std::string text = line.substr(0, line.rfind(" (None-"));
    EXPECT_EQ(row.substr(row.rfind('\t') + 1), text) << row;
    EXPECT_EQ(row.substr(0, row.find('\t')), fmt::format("u{}.wav", i));
    // Threshold 0: every hypothesis that is not empty and spells only letters (the random model
    // also emits <unk>, which is no letter: such a line would be no training label).
    const bool usable = !text.empty() && text.find('<') == std::string::npos;
    EXPECT_EQ(row.find("\t1\t") != std::string::npos, usable) << row;
    if (usable) kept.push_back(text);
  }
  EXPECT_EQ(data::read_labels((dir / "pl" / "train.wrd").string()), kept);
  EXPECT_EQ(data::Manifest::load((dir / "pl" / "train.tsv").string()).entries.size(), kept.size());
}

}  // namespace
}  // namespace w2v::decode
