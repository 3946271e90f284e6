// `w2v decode` on stored emissions (issue 18.6): .npy files written by numpy itself (float32,
// float64, [T, V] and [1, T, V]) and a w2v emission file decode to what the decoders give on the
// same data, with per-utterance scores, WER against references, and one-line errors.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/run_command.h"
#include "decode/emission_file.h"
#include "decode/emission_input.h"
#include "decode/viterbi.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

namespace fs = std::filesystem;
using w2v::test::run_command;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "T", "D", "O", "G"};

// Emissions spelling `letters` (2 frames each, then a blank), with a little seeded noise.
EmissionMatrix spell(const std::string& letters, unsigned seed) {
  TokenSet tokens(kSymbols);
  EmissionMatrix e;
  e.vocab = tokens.size();
  for (char c : letters) {
    for (int k = 0; k < 3; ++k) {
      const int id = k == 2 ? 0 : tokens.index(c == ' ' ? "|" : std::string(1, c));
      for (int v = 0; v < e.vocab; ++v)
        e.data.push_back((v == id ? 4.f : -2.f) + static_cast<float>((seed * 7919 + e.data.size() * 104729) % 1000) / 1e3f);
      ++e.frames;
    }
  }
  return e;
}

std::string write_values(const fs::path& dir, const EmissionMatrix& e, const std::string& name) {
  const std::string path = (dir / name).string();
  std::ofstream out(path);
  out.precision(9);
  for (float x : e.data) out << x << "\n";
  return path;
}

TEST(DecodeCli, DecodesNumpyAndEmissionFilesWithScoresAndWer) {
  const fs::path dir = fs::path(::testing::TempDir()) / "decode_cli";
  fs::create_directories(dir);
  std::ofstream(dir / "dict.ltr.txt") << "| 10\nA 5\nC 4\nT 3\nD 2\nO 2\nG 1\n";
  const EmissionMatrix cat = spell("CAT DOG ", 1), dog = spell("DOG ", 2), act = spell("ACT ", 3);
  // numpy writes the .npy files: float32 [T, V], float64 [1, T, V] named like extract's output.
  const std::string txt_cat = write_values(dir, cat, "cat.txt"), txt_dog = write_values(dir, dog, "dog.txt");
  std::string out;
  const std::string py = "/usr/bin/python3 -c \"import numpy as np; "
                         "np.save('" + (dir / "cat.npy").string() + "', np.loadtxt('" + txt_cat + "', dtype=np.float32).reshape(" +
                         std::to_string(cat.frames) + ", -1)); "
                         "np.save('" + (dir / "dog.logits.npy").string() + "', np.loadtxt('" + txt_dog + "').reshape(1, " +
                         std::to_string(dog.frames) + ", -1))\"";
  ASSERT_EQ(run_command(py, out), 0) << out;
  EmissionMatrix stored = act;
  stored.id = "7";
  write_emissions((dir / "act.emis").string(), {stored});

  // The library reads back what numpy wrote, values exact for float32.
  auto inputs = load_emission_inputs({(dir / "cat.npy").string(), (dir / "dog.logits.npy").string(),
                                      (dir / "act.emis").string()});
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_EQ(inputs[0].id, "cat");
  EXPECT_EQ(inputs[1].id, "dog");
  EXPECT_EQ(inputs[2].id, "7");
  EXPECT_EQ(inputs[0].data, cat.data);
  EXPECT_EQ(inputs[1].frames, dog.frames);
  EXPECT_EQ(inputs[2].data, act.data);

  std::ofstream(dir / "refs.txt") << "cat CAT DOG\ndog DOG\n7 CAT\n";
  const std::string w2v = W2V_BINARY;
  const std::string cmd = w2v + " decode " + (dir / "cat.npy").string() + " " + (dir / "dog.logits.npy").string() + " " +
                          (dir / "act.emis").string() + " --dict " + (dir / "dict.ltr.txt").string();
  ASSERT_EQ(run_command(cmd + " --references " + (dir / "refs.txt").string(), out), 0) << out;
  // Greedy scores as the decoder gives them, one line per utterance, and the WER: ACT vs CAT.
  TokenSet tokens(kSymbols);
  std::ostringstream want;
  want << "id\tscore\tam_score\tlm_score\terrors\tref_words\ttext\n";
  const char* refs[] = {"CAT DOG", "DOG", "CAT"};
  const char* ids[] = {"cat", "dog", "7"};
  const EmissionMatrix* all[] = {&cat, &dog, &act};
  for (int i = 0; i < 3; ++i) {
    auto r = ViterbiDecoder(tokens).decode(all[i]->view());
    want << fmt::format("{}\t{:.4f}\t{:.4f}\t{:.4f}\t{}\t{}\t{}\n", ids[i], r.score, r.am_score, r.lm_score,
                        r.text() == refs[i] ? 0 : 1, i == 0 ? 2 : 1, r.text());
  }
  EXPECT_EQ(out, want.str() + "WER: 25.00 % (1 errors / 4 words; 3 utterances)\n");

  // The decoder flags every front end shares: a hotwords file is read (its errors name it).
  std::ofstream(dir / "hot.txt") << "CAT 2\n7\n";
  EXPECT_NE(run_command(cmd + " --merge history --hotwords " + (dir / "hot.txt").string(), out), 0);
  EXPECT_NE(out.find("hot.txt:2: expected 'WORD [WORD ...] [BOOST]'"), std::string::npos) << out;

  ASSERT_EQ(run_command(cmd + " --format json", out), 0) << out;
  EXPECT_NE(out.find("\"path\": \"dog\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"confidence\""), std::string::npos) << out;

  // One-line errors: wrong dictionary size, a damaged .npy, a missing reference.
  std::ofstream(dir / "small.txt") << "| 10\nA 5\n";
  EXPECT_NE(run_command(w2v + " decode " + (dir / "cat.npy").string() + " --dict " + (dir / "small.txt").string(), out), 0);
  EXPECT_EQ(out, "w2v: error: cat: 11 tokens per frame, but " + (dir / "small.txt").string() +
                     " gives 6 units (the model's dictionary is needed)\n");
  fs::copy_file(dir / "cat.npy", dir / "cut.npy", fs::copy_options::overwrite_existing);
  fs::resize_file(dir / "cut.npy", fs::file_size(dir / "cat.npy") - 4);
  EXPECT_THROW(read_npy_emissions((dir / "cut.npy").string()), Error);
  EXPECT_NE(run_command(w2v + " decode " + (dir / "cut.npy").string() + " --dict " + (dir / "dict.ltr.txt").string(), out), 0);
  EXPECT_NE(out.find("cut.npy: shape"), std::string::npos) << out;
  std::ofstream(dir / "refs2.txt") << "cat CAT DOG\n";
  EXPECT_NE(run_command(cmd + " --references " + (dir / "refs2.txt").string(), out), 0);
  EXPECT_NE(out.find("no reference for utterance 'dog'"), std::string::npos) << out;
}

}  // namespace
}  // namespace w2v::decode
