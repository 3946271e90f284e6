// The w2v lm / w2v lexicon subcommands end to end: build -> compile -> query against KenLM's
// numbers for the spec's example, lexicon spelling, and one-line errors with exit codes.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

namespace w2v::lm {
namespace {

const std::string kW2v = W2V_BINARY;
const std::string kExampleArpa = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/spec_example.arpa";

TEST(LmCli, BuildCompileQueryMatchesKenlm) {
  test::ScratchDir dir;
  write_file_atomic(dir.file("corpus.txt"), "the cat sat\nthe cat ran\na dog sat\nthe dog ran\na cat\n");
  ASSERT_EQ(test::run(kW2v + " lm build --order 3 --discount-fallback " + dir.file("corpus.txt") + " -o " +
                      dir.file("lm.arpa.gz") + " 2> " + dir.file("build.log")),
            0);
  EXPECT_NE(read_file(dir.file("build.log")).find("Substituting fallback discounts for order 2: D1=0.5 D2=1 D3+=1.5"),
            std::string::npos);
  test::expect_same_arpa(test::read_arpa_table(dir.file("lm.arpa.gz")), test::read_arpa_table(kExampleArpa), 1e-6);
  ASSERT_EQ(test::run(kW2v + " lm compile " + dir.file("lm.arpa.gz") + " -o " + dir.file("lm.bin") + " 2>/dev/null"), 0);
  write_file_atomic(dir.file("text.txt"), "the dog sat\na zebra ran\n");
  for (const std::string model : {"lm.arpa.gz", "lm.bin"}) {
    ASSERT_EQ(test::run(kW2v + " lm query " + dir.file(model) + " < " + dir.file("text.txt") + " > " + dir.file("q.txt")), 0);
    std::istringstream out(read_file(dir.file("q.txt")));
    std::string line1, line2, rest;
    std::getline(out, line1);
    std::getline(out, line2);
    // KenLM query prints "word=id n logprob<TAB>" per word, then "Total: ... OOV: m"; our
    // estimator may differ from lmplz in the last float bit, hence the numeric comparison.
    auto expect_line = [](const std::string& line, const std::vector<std::pair<std::string, double>>& want) {
      std::istringstream fields(line.substr(0, line.find("Total:")));
      std::string field;
      for (const auto& [prefix, logprob] : want) {
        ASSERT_TRUE(std::getline(fields, field, '\t')) << line;
        const size_t space = field.rfind(' ');
        EXPECT_EQ(field.substr(0, space), prefix) << line;
        EXPECT_NEAR(std::stod(field.substr(space + 1)), logprob, 1e-6) << line;
      }
    };
    expect_line(line1, {{"the=3 2", -0.8370222}, {"dog=8 3", -0.52102673}, {"sat=5 2", -0.8709054}, {"</s>=2 3", -0.16345678}});
    expect_line(line2, {{"a=7 2", -0.5758726}, {"zebra=0 1", -1.5064883}, {"ran=6 1", -0.9378521}, {"</s>=2 2", -0.42864957}});
    EXPECT_NEAR(std::stod(line1.substr(line1.find("Total: ") + 7)), -2.392411, 1e-5);
    EXPECT_NE(line2.find(" OOV: 1"), std::string::npos);
    std::string key;
    double ppl_in = 0, ppl_ex = 0;
    std::getline(out, rest, '\t');
    out >> ppl_in;
    std::getline(out, rest);
    std::getline(out, rest, '\t');
    out >> ppl_ex;
    EXPECT_NEAR(ppl_in, 5.3722872, 1e-5);
    EXPECT_NEAR(ppl_ex, 4.1615495, 1e-5);
    EXPECT_NE(read_file(dir.file("q.txt")).find("OOVs:\t1\nTokens:\t8\n"), std::string::npos);
  }
}

TEST(LmCli, LettersModelAndLexicon) {
  test::ScratchDir dir;
  write_file_atomic(dir.file("words.txt"), "HELLO WORLD\nHELLO HÉLLO\nx-ray\n");
  write_file_atomic(dir.file("dict.ltr.txt"), "| 10\nL 9\nO 8\nH 7\nE 6\nW 5\nR 4\nD 3\nÉ 2\n");
  ASSERT_EQ(test::run(kW2v + " lexicon --words " + dir.file("words.txt") + " --dict " + dir.file("dict.ltr.txt") +
                      " -o " + dir.file("lexicon.txt") + " 2> " + dir.file("log.txt")),
            0);
  EXPECT_EQ(read_file(dir.file("lexicon.txt")), "HELLO\tH E L L O |\nWORLD\tW O R L D |\nHÉLLO\tH É L L O |\n");
  EXPECT_NE(read_file(dir.file("log.txt")).find("skipped 1 with characters outside"), std::string::npos);
  EXPECT_NE(read_file(dir.file("log.txt")).find("x-ray ('x')"), std::string::npos);

  // Token-level LM over the same text: letters and '|' are its words, and its vocabulary
  // spells back through lexicon --lm.
  ASSERT_EQ(test::run(kW2v + " lm build --order 2 --tokens letters --discount-fallback " + dir.file("words.txt") +
                      " -o " + dir.file("ltr.arpa") + " 2>/dev/null"),
            0);
  auto t = test::read_arpa_table(dir.file("ltr.arpa"));
  EXPECT_TRUE(t.ngrams.count("H E"));
  EXPECT_TRUE(t.ngrams.count("O |"));
  EXPECT_TRUE(t.ngrams.count("É"));
  EXPECT_FALSE(t.ngrams.count("HELLO"));
  ASSERT_EQ(test::run(kW2v + " lexicon --lm " + dir.file("ltr.arpa") + " -o " + dir.file("ltr.lex") + " 2>/dev/null"), 0);
  EXPECT_EQ(read_file(dir.file("ltr.lex")).substr(0, 8), "H\tH |\nE\t");
}

// docs/lm.md's synopsis: thresholds as separate words before the corpus, or comma-separated.
TEST(LmCli, PruneThresholdsBeforeTheCorpus) {
  test::ScratchDir dir;
  std::string corpus;
  for (int i = 0; i < 60; ++i) {  // 40 distinct lines, the first 10 of them twice more
    const int j = i < 40 ? i : i % 10;
    corpus += "w" + std::to_string(j % 7) + " w" + std::to_string(j % 5) + " w" + std::to_string(j % 3) + "\n";
  }
  write_file_atomic(dir.file("corpus.txt"), corpus);
  const std::string c = dir.file("corpus.txt");
  ASSERT_EQ(test::run(kW2v + " lm build --order 4 --discount-fallback --prune 0 1 " + c + " -o " + dir.file("a.arpa") + " 2>/dev/null"), 0);
  ASSERT_EQ(test::run(kW2v + " lm build --order 4 --discount-fallback --prune 0,1 " + c + " -o " + dir.file("b.arpa") + " 2>/dev/null"), 0);
  ASSERT_EQ(test::run(kW2v + " lm build " + c + " --order 4 --discount-fallback -o " + dir.file("c.arpa") + " --prune 0 1 2>/dev/null"), 0);
  ASSERT_EQ(test::run(kW2v + " lm build --order 4 --discount-fallback " + c + " -o " + dir.file("none.arpa") + " 2>/dev/null"), 0);
  const std::string a = read_file(dir.file("a.arpa"));
  EXPECT_EQ(a, read_file(dir.file("b.arpa")));
  EXPECT_EQ(a, read_file(dir.file("c.arpa")));
  // Pruning happened: singleton bigrams and above are gone, unigrams kept.
  const auto pruned = test::read_arpa_table(dir.file("a.arpa")), full = test::read_arpa_table(dir.file("none.arpa"));
  EXPECT_EQ(pruned.counts[0], full.counts[0]);
  EXPECT_LT(pruned.counts[3], full.counts[3]);
  EXPECT_GT(pruned.counts[3], 0u);
  EXPECT_EQ(test::run(kW2v + " lm build --order 2 --prune 0,x " + c + " -o " + dir.file("x.arpa") + " 2> " + dir.file("err")), 1);
  EXPECT_EQ(read_file(dir.file("err")),
            "w2v: error: --prune: expected non-negative integer thresholds like '0 1' or '0,1', got '0,x'\n");
}

TEST(LmCli, ErrorsAreOneLineWithExitCodes) {
  test::ScratchDir dir;
  write_file_atomic(dir.file("corpus.txt"), "a b\nb a\n");
  EXPECT_EQ(test::run(kW2v + " lm build " + dir.file("corpus.txt") + " -o " + dir.file("x.arpa") + " 2>/dev/null"), 2);
  EXPECT_EQ(test::run(kW2v + " lm build --order 3 " + dir.file("corpus.txt") + " -o " + dir.file("x.arpa") + " 2> " +
                      dir.file("err.txt")),
            1);
  // Progress ("Unigram tokens 4 types 5") and then exactly one error line.
  const std::string err = read_file(dir.file("err.txt"));
  const size_t last = err.rfind('\n', err.size() - 2) + 1;
  EXPECT_EQ(err.substr(0, last), "Unigram tokens 4 types 5\n");
  EXPECT_EQ(err.rfind("w2v: error: " + dir.file("corpus.txt") + ": could not calculate Kneser-Ney discounts for 1-grams", last),
            last)
      << err;
  EXPECT_EQ(test::run(kW2v + " lm build --order 2 --fallback-discounts 0.5,2.5 " + dir.file("corpus.txt") + " -o " +
                      dir.file("x.arpa") + " 2> " + dir.file("err3.txt")),
            1);
  EXPECT_EQ(read_file(dir.file("err3.txt")), "w2v: error: --fallback-discounts: D2 must lie in [0, 2], got 2.5\n");
  EXPECT_EQ(test::run(kW2v + " lm query " + dir.file("missing.arpa") + " < /dev/null 2>/dev/null"), 1);
  EXPECT_EQ(test::run(kW2v + " lm compile " + dir.file("corpus.txt") + " -o " + dir.file("x.bin") + " 2> " +
                      dir.file("err2.txt")),
            1);
  EXPECT_EQ(read_file(dir.file("err2.txt")),
            "w2v: error: " + dir.file("corpus.txt") + ":2: not an ARPA file: no '\\data\\' line\n");
}

}  // namespace
}  // namespace w2v::lm
