// `w2v tune` end to end on stored emissions built so that the LM weight matters both ways: one
// utterance needs the LM (its acoustics lean to a wrong word), one is spoilt by a strong LM (its
// acoustics are right but the LM prefers another word). The best line must be the table's argmin,
// agree with `w2v infer` at the same weights, and come out the same from either kind of
// references and in the JSON; bad input fails with one line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "common/run_command.h"
#include "decode/emission_file.h"
#include "decode/tokens.h"

namespace w2v::decode {
namespace {

namespace fs = std::filesystem;
using w2v::test::run_command;

const std::vector<std::string> kSymbols = {"<s>", "<pad>", "</s>", "<unk>", "|", "A", "C", "T", "D", "O", "G"};

// Each letter of `heard` 2 frames at 4 then a blank frame, and a word boundary; in the first
// letter's frames `rival` (if not 0) scores `rival_score` (a close or a clear second).
EmissionMatrix spell(uint64_t id, const std::string& heard, char rival = 0, float rival_score = 0) {
  TokenSet tokens(kSymbols);
  EmissionMatrix u;
  u.id = std::to_string(id);
  u.vocab = tokens.size();
  auto frame = [&](int best, int second) {
    std::vector<float> row(u.vocab, -8.f);
    row[best] = 4.f;
    if (second >= 0) row[second] = rival_score;
    u.data.insert(u.data.end(), row.begin(), row.end());
    ++u.frames;
  };
  for (size_t i = 0; i < heard.size(); ++i) {
    const int rival_id = i == 0 && rival ? tokens.index(std::string(1, rival)) : -1;
    for (int k = 0; k < 2; ++k) frame(tokens.index(std::string(1, heard[i])), rival_id);
    frame(0, -1);
  }
  frame(tokens.index("|"), -1);
  return u;
}

struct Row {
  double lm, word, sil, wer;
  size_t errors, words;
};

// The table rows and the best line of tune's output.
std::vector<Row> table_of(const std::string& out, std::string* best) {
  std::istringstream in(out);
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    Row r;
    if (line.rfind("best: ", 0) == 0) *best = line;
    if (std::sscanf(line.c_str(), "%lf\t%lf\t%lf\t%lf\t%zu\t%zu", &r.lm, &r.word, &r.sil, &r.wer, &r.errors, &r.words) == 6)
      rows.push_back(r);
  }
  return rows;
}

class TuneCli : public ::testing::Test {
 protected:
  // A folder per process: ctest runs this suite's tests in parallel processes.
  void TearDown() override { fs::remove_all(dir_); }
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("tune_cli_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "dict.ltr.txt") << "| 10\nA 5\nC 4\nT 3\nD 2\nO 2\nG 1\n";
    std::ofstream(dir_ / "valid.tsv") << "/nonexistent\na.wav\t16000\nb.wav\t16000\nc.wav\t16000\n";
    std::ofstream(dir_ / "valid.ltr") << "D O G |\nC O G |\nA C T |\n";
    std::ofstream(dir_ / "refs.txt") << "1 COG\n0 DOG\n2 ACT\n";
    std::ofstream(dir_ / "lexicon.txt") << "CAT C A T |\nDOG D O G |\nCOG C O G |\nACT A C T |\n";
    // The LM prefers DOG to COG by 3.7 (log10) per unit of lm_weight.
    std::ofstream(dir_ / "lm.arpa") << "\\data\\\nngram 1=7\n\n\\1-grams:\n-2.0\t<unk>\n-99\t<s>\n-0.5\t</s>\n"
                                        "-1.0\tCAT\n-0.3\tDOG\n-4.0\tCOG\n-4.0\tACT\n\n\\end\\\n";
    // 0: DOG heard as COG by 2 x 0.5 (the LM fixes it from lm_weight 1 on); 1: COG heard right by
    // 2 x 2 (the LM spoils it from lm_weight 2 on); 2: a clean ACT.
    write_emissions(emis(), {spell(0, "COG", 'D', 3.5f), spell(1, "COG", 'D', 2.f), spell(2, "ACT")});
  }
  std::string emis() const { return (dir_ / "valid.emis").string(); }
  std::string tune(const std::string& args) const {
    return std::string(W2V_BINARY) + " tune " + emis() + " --lexicon " + (dir_ / "lexicon.txt").string() + " --lm " +
           (dir_ / "lm.arpa").string() + " " + args;
  }
  fs::path dir_;
};

TEST_F(TuneCli, BestLineIsTheTableArgminAndMatchesInfer) {
  std::string out, best;
  const std::string json = (dir_ / "best.json").string();
  ASSERT_EQ(run_command(tune("--data " + dir_.string() + " --lm-weight 0:3:1 --word-score=-1,0,1 -o " + json), out), 0)
      << out;
  const auto rows = table_of(out, &best);
  ASSERT_EQ(rows.size(), 12u) << out;
  // Grid order, three words each; the LM weight matters in both directions.
  EXPECT_EQ(rows[0].lm, 0);
  EXPECT_EQ(rows[3].lm, 1);
  EXPECT_EQ(rows[1].word, 0);
  const auto errors_at = [&](double lm) {
    for (const auto& r : rows)
      if (r.lm == lm) return r.errors;
    return size_t(99);
  };
  EXPECT_GT(errors_at(0), errors_at(1)) << out;
  EXPECT_GT(errors_at(3), errors_at(1)) << out;
  // The argmin under the documented ranking (fewest errors, then smaller lm, word, sil).
  const Row* argmin = &rows[0];
  for (const auto& r : rows) {
    EXPECT_EQ(r.words, 3u);
    if (std::tie(r.errors, r.lm, r.word, r.sil) < std::tie(argmin->errors, argmin->lm, argmin->word, argmin->sil))
      argmin = &r;
  }
  char expected[128];
  std::snprintf(expected, sizeof expected, "best: --lm-weight %g --word-score %g --sil-weight %g", argmin->lm,
                argmin->word, argmin->sil);
  EXPECT_EQ(best, expected) << out;
  EXPECT_EQ(best, "best: --lm-weight 1 --word-score -1 --sil-weight 0") << out;

  // The JSON holds the same best values and the whole table.
  std::ifstream in(json);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["lm_weight"].get<double>(), argmin->lm);
  EXPECT_EQ(j["word_score"].get<double>(), argmin->word);
  EXPECT_EQ(j["sil_weight"].get<double>(), argmin->sil);
  EXPECT_EQ(j["errors"].get<size_t>(), argmin->errors);
  EXPECT_EQ(j["utterances"].get<size_t>(), 3u);
  ASSERT_EQ(j["settings"].size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(j["settings"][i]["lm_weight"].get<double>(), rows[i].lm);
    EXPECT_EQ(j["settings"][i]["errors"].get<size_t>(), rows[i].errors);
  }

  // w2v infer on the same emissions and weights scores as tune's row does.
  for (const auto& r : {rows[0], rows[3], rows[9]}) {
    std::string infer_out;
    ASSERT_EQ(run_command(std::string(W2V_BINARY) + " infer " + dir_.string() + " --subset valid --load-emissions " +
                              emis() + " --lexicon " + (dir_ / "lexicon.txt").string() + " --lm " +
                              (dir_ / "lm.arpa").string() + " --lm-weight " + std::to_string(r.lm) +
                              " --word-score " + std::to_string(r.word),
                          infer_out),
              0)
        << infer_out;
    char wer[96];
    std::snprintf(wer, sizeof wer, "WER: %.2f %% (%zu / 3 words)", r.wer, r.errors);
    EXPECT_NE(infer_out.find(wer), std::string::npos) << wer << "\n" << infer_out;
  }

  // ID-keyed references give the same table; coordinate search reaches the same best with fewer decodes.
  std::string by_id, best_by_id;
  ASSERT_EQ(run_command(tune("--dict " + (dir_ / "dict.ltr.txt").string() + " --references " +
                             (dir_ / "refs.txt").string() + " --lm-weight 0:3:1 --word-score=-1,0,1"),
                        by_id),
            0)
      << by_id;
  const auto rows_by_id = table_of(by_id, &best_by_id);
  ASSERT_EQ(rows_by_id.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows_by_id[i].errors, rows[i].errors);
  EXPECT_EQ(best_by_id, best);
  std::string coordinate, best_coordinate;
  ASSERT_EQ(run_command(tune("--data " + dir_.string() + " --lm-weight 0:3:1 --word-score=-1,0,1 --search coordinate"),
                        coordinate),
            0)
      << coordinate;
  EXPECT_LT(table_of(coordinate, &best_coordinate).size(), rows.size()) << coordinate;
  EXPECT_EQ(best_coordinate, best);
}

TEST_F(TuneCli, BadInputIsOneLine) {
  const std::string data = "--data " + dir_.string() + " ";
  std::ofstream(dir_ / "short.ltr") << "D O G |\nC O G |\n";
  std::ofstream(dir_ / "refs_missing.txt") << "0 DOG\n2 ACT\n";
  write_emissions((dir_ / "far.emis").string(), {spell(0, "DOG"), spell(7, "COG"), spell(2, "ACT")});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {tune(data + "--lm-weight 0:1:0"), "w2v: error: option --lm-weight: '0:1:0': STEP must be > 0"},
      {tune(data + "--word-score 2:1:1"), "w2v: error: option --word-score: '2:1:1': START must not exceed STOP"},
      {tune(data + "--sil-weight x"), "w2v: error: option --sil-weight: 'x' in 'x' is not a number"},
      {tune(data + "--subset short --dict " + (dir_ / "dict.ltr.txt").string()),
       "short.ltr: 2 lines for 3 stored utterances"},
      {tune("--dict " + (dir_ / "dict.ltr.txt").string() + " --references " + (dir_ / "refs_missing.txt").string()),
       "refs_missing.txt: no reference for utterance '1'"},
      {tune(data).replace(tune(data).find(emis()), emis().size(), (dir_ / "far.emis").string()),
       "utterance '7' is not one of its 3 rows"},
      {tune(data + "--decoder viterbi"), "w2v: error: tune: the viterbi decoder has no weights to tune"},
      {tune("--lm-weight 1"), "w2v: error: tune: give the references either as --references FILE"},
  };
  for (const auto& [cmd, message] : cases) {
    std::string out;
    EXPECT_EQ(run_command(cmd, out), 1) << cmd << "\n" << out;
    EXPECT_NE(out.find(message), std::string::npos) << cmd << "\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << cmd << "\n" << out;
  }
}

}  // namespace
}  // namespace w2v::decode
