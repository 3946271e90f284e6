// NgramModel against KenLM's numbers for the spec's worked example (lmplz's ARPA, query's
// output), ARPA-loaded vs `lm compile`d (KenLM probing) scores, and malformed-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "lm/kenlm_model.h"
#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kExample = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/spec_example.arpa";

// Every n-gram of the ARPA file, looked up in `model`, has the ARPA text's log10 probability and
// backoff; returns how many n-grams were checked.
size_t expect_every_ngram_as_in(const std::string& arpa_file, const NgramModel& model) {
  size_t checked = 0;
  ArpaReader::read(
      arpa_file, [](const std::vector<uint64_t>&) {},
      [&](const ArpaNgram& g) {
        std::vector<WordIndex> ids;
        for (auto w : g.words) ids.push_back(model.index(w));
        float p, b;
        ASSERT_TRUE(model.lookup(ids, &p, &b));
        EXPECT_EQ(p, g.log10_prob);
        EXPECT_EQ(b, g.log10_backoff);
        ++checked;
      });
  return checked;
}

struct Scored {
  std::string word;
  WordIndex id;
  int n;
  float logprob;
};

std::vector<Scored> score_line(const BackoffModel& m, const std::vector<std::string>& words) {
  std::vector<Scored> out;
  State s = m.begin();
  for (const auto& w : words) {
    int n = 0;
    WordIndex id = m.index(w);
    ScoreResult r = m.score(s, id, &n);
    out.push_back({w, id, n, r.log10_prob});
    s = r.next;
  }
  int n = 0;
  out.push_back({"</s>", m.eos_index(), 0, m.score(s, m.eos_index(), &n).log10_prob});
  out.back().n = n;
  return out;
}

// KenLM query's output on the spec's example (ngram_lm.md section 9).
void expect_kenlm_query(const BackoffModel& m) {
  auto l1 = score_line(m, {"the", "dog", "sat"});
  const std::vector<Scored> e1 = {{"the", 3, 2, -0.8370222f}, {"dog", 8, 3, -0.52102673f},
                                  {"sat", 5, 2, -0.8709054f}, {"</s>", 2, 3, -0.16345678f}};
  auto l2 = score_line(m, {"a", "zebra", "ran"});
  const std::vector<Scored> e2 = {{"a", 7, 2, -0.5758726f}, {"zebra", 0, 1, -1.5064883f},
                                  {"ran", 6, 1, -0.9378521f}, {"</s>", 2, 2, -0.42864957f}};
  for (auto [got, want] : {std::pair{l1, e1}, std::pair{l2, e2}}) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, want[i].id) << want[i].word;
      EXPECT_EQ(got[i].n, want[i].n) << want[i].word;
      EXPECT_NEAR(got[i].logprob, want[i].logprob, 1e-6) << want[i].word;
    }
  }
}

TEST(NgramModel, ArpaMatchesKenlmQueryOnSpecExample) {
  auto m = NgramModel::from_arpa(kExample);
  EXPECT_EQ(m->order(), 3);
  EXPECT_EQ(m->vocab_size(), 9u);
  EXPECT_EQ(m->unk_index(), 0u);
  EXPECT_EQ(m->index(std::string("zebra")), 0u);
  EXPECT_EQ(m->word(4), "cat");
  expect_kenlm_query(*m);
}

TEST(NgramModel, StateMinimisationMergesEquivalentHistories) {
  auto m = NgramModel::from_arpa(kExample);
  // "cat sat" ends in a trigram; its state is "sat" alone would lose nothing only if
  // "cat sat" has no extension - it has ("cat sat </s>"), so both words stay.
  State s = m->begin();
  s = m->score(s, m->index(std::string("the"))).next;
  s = m->score(s, m->index(std::string("cat"))).next;
  State after_sat = m->score(s, m->index(std::string("sat"))).next;
  EXPECT_EQ(after_sat.length, 2);
  // After an OOV nothing extends <unk>: the state is empty, whatever came before.
  State a = m->score(m->begin(), m->unk_index()).next;
  State b = m->score(after_sat, m->index(std::string("zebra"))).next;
  EXPECT_EQ(a.length, 0);
  EXPECT_EQ(a, b);
  // "sat </s>"-style: after "</s>" (never a context) the state is empty too.
  EXPECT_EQ(m->score(after_sat, m->eos_index()).next.length, 0);
}

TEST(NgramModel, ArpaHoldsEveryNgramAndCompiledBinaryScoresAlike) {
  test::ScratchDir dir;
  auto arpa = NgramModel::from_arpa(kExample);
  write_kenlm_probing(kExample, dir.file("lm.bin"));
  auto bin = open_language_model(dir.file("lm.bin"));
  ASSERT_EQ(bin->vocab_size(), arpa->vocab_size());
  expect_kenlm_query(*bin);
  EXPECT_EQ(expect_every_ngram_as_in(kExample, *arpa), 9u + 13u + 13u);
}

// The ARPA-loaded tables and `lm compile`'s KenLM probing file of a random order-4 model: every
// n-gram as in the ARPA text, and identical scores, matched lengths and states along random word
// streams (OOVs included).
TEST(NgramModel, CompiledBinaryEqualsArpaOnRandomOrder4Model) {
  test::ScratchDir dir;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> word(0, 60), length(0, 12);
  std::string text;
  for (int s = 0; s < 400; ++s) {
    for (int i = 0, n = length(rng); i < n; ++i) text += "w" + std::to_string(word(rng) * word(rng) / 60) + " ";
    text += "\n";
  }
  write_file_atomic(dir.file("corpus.txt"), text);
  KneserNeyOptions o;
  o.order = 4;
  o.prune = {0, 0, 1};
  o.discount_fallback = {0.5, 1.0, 1.5};
  estimate_kneser_ney(dir.file("corpus.txt"), dir.file("lm.arpa"), o, nullptr);
  auto arpa = NgramModel::from_arpa(dir.file("lm.arpa"));
  write_kenlm_probing(dir.file("lm.arpa"), dir.file("lm.bin"));
  auto bin = open_language_model(dir.file("lm.bin"));
  EXPECT_GT(expect_every_ngram_as_in(dir.file("lm.arpa"), *arpa), 1000u);
  // Both number the words in the ARPA's order (lmplz writes <unk> first, KenLM's id 0).
  ASSERT_EQ(bin->vocab_size(), arpa->vocab_size());
  for (WordIndex i = 0; i < arpa->vocab_size(); ++i) ASSERT_EQ(bin->index(arpa->word(i)), i) << arpa->word(i);
  std::uniform_int_distribution<WordIndex> id(0, static_cast<WordIndex>(arpa->vocab_size() + 3));
  State s1 = arpa->begin(), s2 = bin->begin();
  for (int i = 0; i < 20000; ++i) {
    const WordIndex w = id(rng);
    int n1 = 0, n2 = 0;
    ScoreResult r1 = arpa->score(s1, w, &n1), r2 = bin->score(s2, w < bin->vocab_size() ? w : bin->unk_index(), &n2);
    ASSERT_EQ(r1.log10_prob, r2.log10_prob) << i;
    ASSERT_EQ(n1, n2) << i;
    ASSERT_EQ(r1.next, r2.next) << i;
    s1 = r1.next;
    s2 = r2.next;
    if (i % 15 == 0) {
      ASSERT_EQ(arpa->finish(s1), bin->finish(s2));
      s1 = arpa->begin();
      s2 = bin->begin();
    }
  }
}

TEST(NgramModel, ReadsSrilmConventions) {
  test::ScratchDir dir;
  // SRILM writes -99 for <s>, may omit <unk>, and uses spaces; -inf is a valid value.
  write_file_atomic(dir.file("srilm.arpa"),
                    "\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-99 <s> -0.5\n-1 a -0.25\n-1 </s>\n-inf b\n\n"
                    "\\2-grams:\n-0.2 <s> a\n-0.3 a </s>\n\n\\end\\\n");
  auto m = NgramModel::from_arpa(dir.file("srilm.arpa"));
  EXPECT_EQ(m->vocab_size(), 5u);  // <unk> appended
  EXPECT_EQ(m->index(std::string("zzz")), m->unk_index());
  State s = m->begin();
  ScoreResult a = m->score(s, m->index(std::string("a")));
  EXPECT_FLOAT_EQ(a.log10_prob, -0.2f);
  EXPECT_FLOAT_EQ(m->finish(a.next), -0.3f);
  EXPECT_FLOAT_EQ(m->score(s, m->unk_index()).log10_prob, -100.0f - 0.5f);
  EXPECT_EQ(m->score(s, m->index(std::string("b"))).log10_prob, -INFINITY);
}

// The binary format w2v wrote before `lm compile` wrote KenLM's is refused by name.
TEST(NgramModel, OldW2vBinaryIsRefusedInOneLine) {
  test::ScratchDir dir;
  write_file_atomic(dir.file("x.bin"), std::string("w2vNGRAM") + std::string(400, '\0'));
  try {
    open_language_model(dir.file("x.bin"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("x.bin") + ": w2v's own binary LM format (w2vNGRAM) is no longer read; "
                                                         "recompile the ARPA with `w2v lm compile` (it writes KenLM's "
                                                         "probing format)");
  }
}

TEST(NgramModel, ReadsGzipAndDetectsFormat) {
  test::ScratchDir dir;
  ASSERT_EQ(test::run("gzip -c " + kExample + " > " + dir.file("lm.arpa.gz")), 0);
  auto lm = load_language_model(dir.file("lm.arpa.gz"));
  EXPECT_EQ(lm->order(), 3);
  EXPECT_NEAR(lm->score(lm->begin(), lm->index("the")).log10_prob, -0.8370222f, 1e-6);
}

std::string error_of(const std::string& path) {
  try {
    NgramModel::from_arpa(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NgramModel, MalformedArpaNamesFileAndLine) {
  test::ScratchDir dir;
  const std::string good = read_file(kExample);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    s.replace(pos, from.size(), to);
    write_file_atomic(dir.file("bad.arpa"), s);
    return error_of(dir.file("bad.arpa"));
  };
  const std::string f = dir.file("bad.arpa");
  EXPECT_EQ(with("-0.9378521\tcat\t", "-0.9x\tcat\t"),
            f + ":11: expected a probability (log10 number), got '-0.9x'");
  EXPECT_EQ(with("-0.7085401\tcat </s>\t0", "-0.7085401\tcat"), f + ":18: expected '<log10 prob> <2 words> [<log10 backoff>]', got 2 fields");
  EXPECT_EQ(with("ngram 2=13", "ngram 2=14"), f + ":31: header declares 14 2-grams but the section has 13");
  EXPECT_EQ(with("\\end\\", ""), f + ":47: missing '\\end\\'");
  EXPECT_EQ(with("ngram 3=13", "ngram 3 13"), f + ":4: expected 'ngram <k>=<count>', got 'ngram 3 13'");
  EXPECT_EQ(with("cat sat </s>", "cat sat zebra"), f + ":34: word 'zebra' of this 3-gram is not in the 1-grams");
  EXPECT_EQ(with("-0.45434403\tthe cat ran", "-0.45434403\tthe cat sat"), f + ":42: duplicate 3-gram");
  EXPECT_EQ(with("\\data\\", "data"), f + ":47: not an ARPA file: no '\\data\\' line");
}

}  // namespace
}  // namespace w2v::lm
