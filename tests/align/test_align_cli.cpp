// `w2v align` end to end on a real (small, random) fairseq CTC checkpoint made by
// tools/oracle/ckpt_models.py: its letters' frames equal the oracle's alignment of the
// model's own logits (`w2v extract --logits`); the formats, the manifest mode and the errors
// (unknown letters, a transcript longer than the audio, a missing transcript file).
#include <unistd.h>

#include <cstdint>

#include "align_test_util.h"

namespace w2v::align {
namespace {

namespace fs = std::filesystem;
using w2v::test::run_command;

// 16 kHz mono 16-bit WAV of noise.
void write_wav(const fs::path& path, int samples, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 3000.f);
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  f << "RIFF";
  u32(36 + 2 * samples);
  f << "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(16000), u32(32000), u16(2), u16(16);
  f << "data";
  u32(2 * samples);
  for (int i = 0; i < samples; ++i) u16(static_cast<uint16_t>(static_cast<int16_t>(std::clamp(g(rng), -32000.f, 32000.f))));
}

class AlignCli : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static void SetUpTestSuite() {
    // One folder per process: ctest runs this suite's tests in parallel processes, and a shared
    // folder was removed by one test's setup while another wrote into it.
    dir_ = fs::path(::testing::TempDir()) / ("align_cli_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string out;
    ASSERT_EQ(run_command("/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/tools/oracle/ckpt_models.py make " +
                              (dir_ / "models").string(),
                          out),
              0)
        << out;
    write_wav(dir_ / "a.wav", 24000, 1);
    write_wav(dir_ / "b.wav", 16000, 2);
    // Letters of this model: | E T A O N. Repeats (TT, OO) and a number (10 -> TEN).
    std::ofstream(dir_ / "a.txt") << "Neat tattoo,\n 10 at noon.\n";
  }
  static std::string model() { return (dir_ / "models" / "fairseq_ctc_cfg.pt").string(); }
  static std::string w2v(const std::string& args) { return std::string(W2V_BINARY) + " align " + model() + " " + args; }
  static fs::path dir_;
};
fs::path AlignCli::dir_;

TEST_F(AlignCli, LettersEqualTheOracleOnTheModelsLogits) {
  std::string out;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " extract " + model() + " " + (dir_ / "a.wav").string() + " -o " +
                            (dir_ / "feat").string() + " --logits",
                        out),
            0)
      << out;
  const std::vector<std::string> symbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N"};
  const std::string json_in = dir_ / "oracle_in.json";
  // NEAT | TATTOO | TEN | AT | NOON as dictionary indices.
  std::vector<int> labels;
  for (char c : std::string("NEAT|TATTOO|TEN|AT|NOON"))
    labels.push_back(static_cast<int>(std::find(symbols.begin(), symbols.end(), std::string(1, c)) - symbols.begin()));
  std::ofstream(json_in) << nlohmann::json{{"cases", {{{"emissions_npy", (dir_ / "feat" / "a.logits.npy").string()},
                                                        {"labels", labels},
                                                        {"blank", 0}}}}}
                                .dump();
  ASSERT_EQ(run_command("/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/tools/oracle/ctc_align.py < " + json_in,
                        out),
            0)
      << out;
  const std::vector<int> states = nlohmann::json::parse(out)[0]["states"].get<std::vector<int>>();

  ASSERT_EQ(run_command(w2v((dir_ / "a.wav").string() + " " + (dir_ / "a.txt").string()), out), 0) << out;
  const auto j = nlohmann::json::parse(out)["files"][0];
  EXPECT_EQ(j["transcript"], (dir_ / "a.txt").string());
  ASSERT_EQ(j["words"].size(), 5u);
  EXPECT_EQ(j["words"][2]["word"], "10");
  EXPECT_EQ(j["words"][2]["spoken"][0]["word"], "TEN");
  // This model's frames: 20 samples (three strided convolutions 5 x 2 x 2) = 1.25 ms.
  const double frame = 20.0 / 16000;
  size_t k = 0;  // label index in NEAT|TATTOO|...
  int letters = 0;
  for (const auto& w : j["words"]) {
    for (const auto& s : w["spoken"]) {
      for (const auto& l : s["letters"]) {
        const int first = static_cast<int>(std::find(states.begin(), states.end(), 2 * static_cast<int>(k) + 1) - states.begin());
        const int last = static_cast<int>(states.rend() - std::find(states.rbegin(), states.rend(), 2 * static_cast<int>(k) + 1));
        EXPECT_EQ(std::lround(l["start"].get<double>() / frame), first) << "letter " << k;
        EXPECT_EQ(std::lround(l["end"].get<double>() / frame), last) << "letter " << k;
        ++k, ++letters;
      }
      ++k;  // the separator
    }
  }
  EXPECT_EQ(letters, 19);

  // The same text given on the command line; a small window (windowed alignment) stays legal.
  ASSERT_EQ(run_command(w2v((dir_ / "a.wav").string() + " 'neat tattoo ten at noon' --window-seconds 1"), out), 0)
      << out;
  const auto w = nlohmann::json::parse(out)["files"][0]["words"];
  ASSERT_EQ(w.size(), 5u);
  for (size_t i = 1; i < w.size(); ++i) EXPECT_GE(w[i]["start"].get<double>(), w[i - 1]["end"].get<double>());
}

TEST_F(AlignCli, FormatsAndManifestMode) {
  std::string out;
  ASSERT_EQ(run_command(w2v((dir_ / "a.wav").string() + " " + (dir_ / "a.txt").string() + " --format srt --cue line"), out), 0)
      << out;
  EXPECT_EQ(out.rfind("1\n00:00:00,", 0), 0u) << out;
  EXPECT_NE(out.find("\nNeat tattoo,\n\n2\n"), std::string::npos) << out;
  ASSERT_EQ(run_command(w2v((dir_ / "a.wav").string() + " " + (dir_ / "a.txt").string() + " --format textgrid -o " +
                            (dir_ / "a.TextGrid").string()),
                        out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(dir_ / "a.TextGrid"));

  std::ofstream(dir_ / "test.tsv") << dir_.string() << "\na.wav\t24000\nb.wav\t16000\n";
  std::ofstream(dir_ / "test.wrd") << "NEAT TATTOO\nTEN AT NOON\n";
  ASSERT_EQ(run_command(w2v("--manifest " + (dir_ / "test.tsv").string() + " --labels " + (dir_ / "test.wrd").string() +
                            " --format ctm"),
                        out),
            0)
      << out;
  std::istringstream ctm(out);
  std::string line;
  std::vector<std::string> utts;
  while (std::getline(ctm, line)) utts.push_back(line.substr(0, line.find(' ')));
  EXPECT_EQ(utts, (std::vector<std::string>{"a", "a", "b", "b", "b"}));
  ASSERT_EQ(run_command(w2v("--manifest " + (dir_ / "test.tsv").string() + " --labels " + (dir_ / "test.wrd").string() +
                            " --format vtt -o " + (dir_ / "subs").string()),
                        out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(dir_ / "subs" / "a.vtt"));
  EXPECT_TRUE(fs::exists(dir_ / "subs" / "b.vtt"));
}

TEST_F(AlignCli, ErrorsNameTheFileAndThePosition) {
  std::string out;
  // Z, B, R are not in this model's dictionary.
  EXPECT_EQ(run_command(w2v((dir_ / "a.wav").string() + " 'neat zebra'"), out), 1) << out;
  EXPECT_NE(out.find("transcript: 3 character(s) the model's dictionary cannot spell (line:column): 1:6 'z', 1:8 'b', "
                     "1:9 'r'"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_command(w2v((dir_ / "a.wav").string() + " 'neat zebra' --unknown skip"), out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["files"][0]["skipped"].size(), 3u);
  // 1 s of audio has 799 frames here; 3 000 letters cannot fit.
  std::string text;
  for (int i = 0; i < 600; ++i) text += "tenet ";
  std::ofstream(dir_ / "long.txt") << text;
  EXPECT_EQ(run_command(w2v((dir_ / "b.wav").string() + " " + (dir_ / "long.txt").string()), out), 1) << out;
  EXPECT_NE(out.find((dir_ / "long.txt").string() + ": does not fit " + (dir_ / "b.wav").string()), std::string::npos)
      << out;
  // The same text given inline is text (longer than a file name may be), not an internal error.
  EXPECT_EQ(run_command(w2v((dir_ / "b.wav").string() + " '" + text + "'"), out), 1) << out;
  EXPECT_NE(out.find("does not fit " + (dir_ / "b.wav").string()), std::string::npos) << out;
  EXPECT_EQ(out.find("internal error"), std::string::npos) << out;
  EXPECT_EQ(run_command(w2v((dir_ / "b.wav").string() + " missing.txt"), out), 1) << out;
  EXPECT_NE(out.find("missing.txt: no such transcript file"), std::string::npos) << out;
}

}  // namespace
}  // namespace w2v::align
