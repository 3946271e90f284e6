// `w2v wer` end to end: the printed rate, the report file, and a one-line error on bad input.
#include <gtest/gtest.h>

#include "common/run_command.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

std::string write(const std::string& name, const std::string& content) {
  std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

using w2v::test::run_command;

TEST(WerCli, PrintsRateAndWritesReport) {
  auto ref = write("cli_ref.word", "THE CAT SAT (None-0)\nHELLO (None-1)\n");
  auto hyp = write("cli_hyp.word", "THE BAT SAT DOWN (None-0)\nHELLO (None-1)\n");
  std::string report = testing::TempDir() + "/cli_report.txt", out;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " wer " + ref + " " + hyp + " --report " + report, out), 0) << out;
  EXPECT_NE(out.find("WER: 50.00 % (2 errors / 4 words: S 1 D 0 I 1; 2 sentences, 1 with errors)"), std::string::npos)
      << out;
  std::stringstream content;
  content << std::ifstream(report).rdbuf();
  EXPECT_NE(content.str().find("CAT -> BAT"), std::string::npos) << content.str();

  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " wer --cer " + ref + " " + hyp, out), 0) << out;
  EXPECT_NE(out.find("CER: "), std::string::npos) << out;
}

TEST(WerCli, BadInputIsOneLineError) {
  auto ref = write("cli_ref2.txt", "A\nB\n");
  auto hyp = write("cli_hyp2.txt", "A\n");
  std::string out;
  EXPECT_EQ(run_command(std::string(W2V_BINARY) + " wer " + ref + " " + hyp, out), 1);
  EXPECT_NE(out.find("w2v: error: " + hyp + ":2:"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

}  // namespace
