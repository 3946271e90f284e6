// `w2v infer` on stored emissions, end to end: a tiny data dir whose emissions spell the
// references with one acoustic error that only the lexicon + LM can fix. Checks the printed WER
// for viterbi and lexicon decoding, and that `w2v wer` on the written files agrees.
#include <gtest/gtest.h>

#include "common/run_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "decode/emission_file.h"
#include "decode/tokens.h"

namespace w2v::decode {
namespace {

using w2v::test::run_command;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "K", "T", "D", "O", "G"};


// Emissions for a letter string: each symbol 2 frames then a blank; `swap` replaces the first
// occurrence of a letter in the acoustics with a close second.
EmissionMatrix spell(uint64_t id, const std::string& letters, char from = 0, char to = 0) {
  TokenSet tokens(kSymbols);
  const int V = tokens.size();
  EmissionMatrix u;
  u.id = std::to_string(id);
  u.vocab = V;
  bool swapped = false;
  auto frame = [&](int best, int second) {
    std::vector<float> row(V, -8.f);
    row[best] = 4.f;
    if (second >= 0) row[second] = 3.5f;
    u.data.insert(u.data.end(), row.begin(), row.end());
    ++u.frames;
  };
  for (char c : letters) {
    if (c == ' ') continue;
    int id_c = tokens.index(std::string(1, c));
    int second = -1;
    if (c == from && !swapped) {
      second = id_c;
      id_c = tokens.index(std::string(1, to));
      swapped = true;
    }
    frame(id_c, second);
    frame(id_c, second);
    frame(0, -1);
  }
  return u;
}

TEST(InferCli, DecodesStoredEmissionsAndWritesFairseqFiles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "infer_cli";
  fs::create_directories(dir);
  std::ofstream(dir / "dict.ltr.txt") << "| 10\nA 5\nC 4\nK 3\nT 3\nD 2\nO 2\nG 1\n";
  std::ofstream(dir / "test.tsv") << "/nonexistent\na.wav\t32000\nb.wav\t16000\n";
  std::ofstream(dir / "test.ltr") << "C A T | D O G |\nD O G |\n";
  std::ofstream(dir / "lexicon.txt") << "CAT C A T |\nKAT K A T |\nDOG D O G |\n";
  std::ofstream(dir / "lm.arpa") << "\\data\\\nngram 1=6\n\n\\1-grams:\n-2.0\t<unk>\n-99\t<s>\n-0.5\t</s>\n"
                                     "-0.3\tCAT\n-3.0\tKAT\n-0.4\tDOG\n\n\\end\\\n";
  // Utterance 0 sounds like "KAT DOG" (C heard as K), utterance 1 is clean.
  write_emissions((dir / "em.bin").string(), {spell(0, "|CAT|DOG|", 'C', 'K'), spell(1, "DOG|")});

  const std::string base = std::string(W2V_BINARY) + " infer " + dir.string() + " --subset test --load-emissions " +
                           (dir / "em.bin").string();
  std::string out;
  ASSERT_EQ(run_command(base + " --decoder viterbi", out), 0) << out;
  EXPECT_NE(out.find("WER: 33.33 % (1 / 3 words), UER: 8.33 % (1 / 12 units)"), std::string::npos) << out;
  EXPECT_NE(out.find("Processed 2 sentences (3.0 s of audio)"), std::string::npos) << out;

  fs::path results = dir / "results";
  ASSERT_EQ(run_command(base + " --decoder lexicon --lexicon " + (dir / "lexicon.txt").string() + " --lm " +
                    (dir / "lm.arpa").string() + " --results-path " + results.string() + " --nbest 2",
                out),
            0)
      << out;
  EXPECT_NE(out.find("WER: 0.00 % (0 / 3 words), UER: 0.00 % (0 / 12 units)"), std::string::npos) << out;
  std::stringstream hypo;
  hypo << std::ifstream(results / "hypo.word-emissions-test.txt").rdbuf();
  EXPECT_EQ(hypo.str(), "CAT DOG (None-0)\nDOG (None-1)\n");
  std::stringstream ref_units;
  ref_units << std::ifstream(results / "ref.units-emissions-test.txt").rdbuf();
  EXPECT_EQ(ref_units.str(), "C A T | D O G | (None-0)\nD O G | (None-1)\n");
  EXPECT_TRUE(fs::exists(results / "hypo.nbest-emissions-test.txt"));
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " wer " + (results / "ref.word-emissions-test.txt").string() + " " +
                    (results / "hypo.word-emissions-test.txt").string(),
                out),
            0)
      << out;
  EXPECT_NE(out.find("WER: 0.00 %"), std::string::npos) << out;

  // Without --decoder, a given LM and lexicon mean the lexicon decoder (fairseq would ignore them).
  ASSERT_EQ(run_command(base + " --lexicon " + (dir / "lexicon.txt").string() + " --lm " + (dir / "lm.arpa").string(),
                        out),
            0)
      << out;
  EXPECT_NE(out.find("WER: 0.00 % (0 / 3 words)"), std::string::npos) << out;

  // A lexicon decoder without its lexicon is a one-line usage error.
  EXPECT_EQ(run_command(base + " --decoder lexicon --lm " + (dir / "lm.arpa").string(), out), 1);
  EXPECT_NE(out.find("w2v: error: option --lexicon"), std::string::npos) << out;
}

}  // namespace
}  // namespace w2v::decode
