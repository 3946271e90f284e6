// NgramModel against KenLM's numbers for the spec's worked example (lmplz's ARPA, query's
// output), ARPA vs binary identity on every n-gram, and malformed-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kExample = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/spec_example.arpa";

struct Scored {
  std::string word;
  WordIndex id;
  int n;
  float logprob;
};

std::vector<Scored> score_line(const NgramModel& m, const std::vector<std::string>& words) {
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
void expect_kenlm_query(const NgramModel& m) {
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

TEST(NgramModel, BinaryEqualsArpaOnEveryNgramAndQuery) {
  test::ScratchDir dir;
  auto arpa = NgramModel::from_arpa(kExample);
  arpa->write_binary(dir.file("lm.bin"));
  auto bin = NgramModel::load(dir.file("lm.bin"));
  ASSERT_EQ(bin->vocab_size(), arpa->vocab_size());
  for (int k = 1; k <= 3; ++k) EXPECT_EQ(bin->ngram_count(k), arpa->ngram_count(k));
  expect_kenlm_query(*bin);
  // Every n-gram of the file: same values in both models, equal to the ARPA text.
  ArpaReader::read(
      kExample, [](const std::vector<uint64_t>&) {},
      [&](const ArpaNgram& g) {
        std::vector<WordIndex> ids;
        for (auto w : g.words) ids.push_back(bin->index(w));
        float p1, b1, p2, b2;
        ASSERT_TRUE(arpa->lookup(ids, &p1, &b1));
        ASSERT_TRUE(bin->lookup(ids, &p2, &b2));
        EXPECT_EQ(p1, g.log10_prob);
        EXPECT_EQ(b1, g.log10_backoff);
        EXPECT_EQ(p1, p2);
        EXPECT_EQ(b1, b2);
      });
}

TEST(NgramModel, BinaryEqualsArpaOnRandomOrder4Model) {
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
  arpa->write_binary(dir.file("lm.bin"));
  auto bin = NgramModel::from_binary(dir.file("lm.bin"));
  size_t checked = 0;
  ArpaReader::read(
      dir.file("lm.arpa"), [](const std::vector<uint64_t>&) {},
      [&](const ArpaNgram& g) {
        std::vector<WordIndex> ids;
        for (auto w : g.words) ids.push_back(bin->index(w));
        float p1, b1, p2, b2;
        ASSERT_TRUE(arpa->lookup(ids, &p1, &b1));
        ASSERT_TRUE(bin->lookup(ids, &p2, &b2));
        ASSERT_EQ(p1, g.log10_prob);
        ASSERT_EQ(b1, g.log10_backoff);
        ASSERT_EQ(p1, p2);
        ASSERT_EQ(b1, b2);
        ++checked;
      });
  EXPECT_GT(checked, 1000u);
  // Scores and states along random word streams (OOVs included) are identical too.
  std::uniform_int_distribution<WordIndex> id(0, static_cast<WordIndex>(arpa->vocab_size() + 3));
  State s1 = arpa->begin(), s2 = bin->begin();
  for (int i = 0; i < 20000; ++i) {
    const WordIndex w = id(rng);
    ScoreResult r1 = arpa->score(s1, w), r2 = bin->score(s2, w);
    ASSERT_EQ(r1.log10_prob, r2.log10_prob);
    ASSERT_EQ(r1.next, r2.next);
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
  auto m = NgramModel::load(dir.file("srilm.arpa"));
  EXPECT_EQ(m->vocab_size(), 5u);  // <unk> appended
  EXPECT_EQ(m->index(std::string("zzz")), m->unk_index());
  State s = m->begin();
  ScoreResult a = m->score(s, m->index(std::string("a")));
  EXPECT_FLOAT_EQ(a.log10_prob, -0.2f);
  EXPECT_FLOAT_EQ(m->finish(a.next), -0.3f);
  EXPECT_FLOAT_EQ(m->score(s, m->unk_index()).log10_prob, -100.0f - 0.5f);
  EXPECT_EQ(m->score(s, m->index(std::string("b"))).log10_prob, -INFINITY);
}

TEST(NgramModel, BinaryHeaderIsChecked) {
  test::ScratchDir dir;
  NgramModel::from_arpa(kExample)->write_binary(dir.file("lm.bin"));
  const std::string good = read_file(dir.file("lm.bin"));
  auto error_with = [&](std::string bytes) {
    write_file_atomic(dir.file("bad.bin"), bytes);
    try {
      NgramModel::from_binary(dir.file("bad.bin"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string f = dir.file("bad.bin") + ": ";
  EXPECT_EQ(error_with(good.substr(0, good.size() - 8)),
            f + "binary LM is truncated or padded: header says " + std::to_string(good.size()) + " bytes, file has " +
                std::to_string(good.size() - 8));
  std::string v2 = good;
  v2[8] = 2;  // version field follows the 8-byte magic
  EXPECT_EQ(error_with(v2), f + "binary LM format version 2, this w2v reads version 1");
  std::string swapped = good;
  std::swap(swapped[12], swapped[15]);  // endianness marker 0x01020304 byte-swapped
  std::swap(swapped[13], swapped[14]);
  EXPECT_EQ(error_with(swapped), f + "binary LM was written on a machine of the other byte order; recompile it from the ARPA");
  std::string magic = good;
  magic[0] = 'x';
  EXPECT_EQ(error_with(magic), f + "not a w2v binary LM (bad magic)");
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
    NgramModel::load(path);
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
  write_file_atomic(dir.file("x.bin"), std::string("w2vNGRAM") + std::string(400, '\0'));
  EXPECT_EQ(error_of(dir.file("x.bin")), dir.file("x.bin") + ": binary LM was written on a machine of the other byte order; recompile it from the ARPA");
}

}  // namespace
}  // namespace w2v::lm
