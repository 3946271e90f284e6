// The estimator against lmplz's own output for the spec's examples, hand-computed values,
// and the Python reference (tools/oracle/ngram_ref.py) on random corpora.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"
#include "lm/query.h"
#include "lm/text_file.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kExampleArpa = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/spec_example.arpa";
const std::string kExampleText = "the cat sat\nthe cat ran\na dog sat\nthe dog ran\na cat\n";

KneserNeyStats build(const test::ScratchDir& dir, const std::string& text, const KneserNeyOptions& o,
                     const std::string& out = "lm.arpa") {
  write_file_atomic(dir.file("corpus.txt"), text);
  return estimate_kneser_ney(dir.file("corpus.txt"), dir.file(out), o, nullptr);
}

TEST(KneserNey, MatchesLmplzOnSpecExample) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 3;
  o.discount_fallback = {0.5, 1.0, 1.5};
  KneserNeyStats s = build(dir, kExampleText, o);
  EXPECT_EQ(s.tokens, 14u);
  EXPECT_EQ(s.types, 9u);
  // lmplz's Statistics block: 1 9 D1=0.2 D2=1.85 D3+=3, 2 13 D1=0.6 D2=1.4 D3+=3, 3 13 fallback.
  const double want[3][3] = {{0.2, 1.85, 3}, {0.6, 1.4, 3}, {0.5, 1, 1.5}};
  for (int n = 0; n < 3; ++n)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(s.discounts[n].d[k + 1], want[n][k], 1e-9) << n << " " << k;
  EXPECT_FALSE(s.discounts[1].fallback);
  EXPECT_TRUE(s.discounts[2].fallback);
  test::expect_same_arpa(test::read_arpa_table(dir.file("lm.arpa")), test::read_arpa_table(kExampleArpa), 1e-6);
}

TEST(KneserNey, HandComputedProbabilities) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 3;
  o.discount_fallback = {0.5};  // repeats: 0.5 0.5 0.5
  build(dir, kExampleText, o);
  auto t = test::read_arpa_table(dir.file("lm.arpa"));
  // Unigrams: continuation counts the1 cat2 sat2 ran2 a1 dog2 </s>3, S=13, D=(0.2,1.85,3).
  const double gamma0 = (0.2 * 2 + 1.85 * 4 + 3 * 1) / 13.0, uniform = gamma0 / 8;
  const double p_the = (1 - 0.2) / 13 + uniform, p_cat = (2 - 1.85) / 13 + uniform;
  EXPECT_NEAR(t.ngrams["the"].first, std::log10(p_the), 1e-6);
  EXPECT_NEAR(t.ngrams["cat"].first, std::log10(p_cat), 1e-6);
  EXPECT_NEAR(t.ngrams["<unk>"].first, std::log10(uniform), 1e-6);
  // Bigram "the cat": context "the" has {cat:1, dog:1}, D1 = 0.6 -> gamma 0.6.
  const double p_the_cat = (1 - 0.6) / 2 + 0.6 * p_cat;
  EXPECT_NEAR(t.ngrams["the cat"].first, std::log10(p_the_cat), 1e-6);
  EXPECT_NEAR(t.ngrams["the"].second, std::log10(0.6), 1e-6);
  // Trigram with the uniform fallback 0.5: context "<s> the" has {cat:2, dog:1}, gamma = 1/3.
  EXPECT_NEAR(t.ngrams["<s> the cat"].first, std::log10((2 - 0.5) / 3 + (1.0 / 3) * p_the_cat), 1e-6);
  EXPECT_NEAR(t.ngrams["<s> the"].second, std::log10(1.0 / 3), 1e-6);
}

TEST(KneserNey, UninterpolatedUnigramsLikeLmplz) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 3;
  o.discount_fallback = {0.5, 1.0, 1.5};
  o.interpolate_unigrams = false;
  build(dir, kExampleText, o);
  auto t = test::read_arpa_table(dir.file("lm.arpa"));
  // lmplz --interpolate_unigrams 0 on the spec's example (ngram_lm.md section 9, case 2).
  EXPECT_NEAR(t.ngrams["<unk>"].first, -0.0805196, 1e-6);
  EXPECT_NEAR(t.ngrams["the"].first, -1.2108533, 1e-6);
  EXPECT_NEAR(t.ngrams["cat"].first, -1.9378521, 1e-6);
  EXPECT_EQ(t.ngrams["</s>"].first, -INFINITY);
}

TEST(KneserNey, EndOfStreamQuirkLikeLmplz) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 2;
  o.discount_fallback = {0.5, 1.0, 1.5};
  KneserNeyStats s = build(dir, "e e e\nb\nb c\nb c\n", o);
  EXPECT_NEAR(s.discounts[0].d[1], 0.2, 1e-9);
  EXPECT_NEAR(s.discounts[0].d[2], 1.7, 1e-9);
  EXPECT_NEAR(s.discounts[0].d[3], 3.0, 1e-9);
}

TEST(KneserNey, EmptyLineGivesSentenceBoundaryBigram) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 2;
  o.discount_fallback = {0.5, 1.0, 1.5};
  build(dir, "a b\n\nb a\n", o);
  auto t = test::read_arpa_table(dir.file("lm.arpa"));
  EXPECT_TRUE(t.ngrams.count("<s> </s>"));
}

TEST(KneserNey, ClearErrors) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 3;
  auto error = [&](const std::string& text) {
    try {
      build(dir, text, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(kExampleText), dir.file("corpus.txt") +
                                     ": could not calculate Kneser-Ney discounts for 3-grams with adjusted count 4 "
                                     "because no 3-grams have adjusted count 3; the corpus is too small or artificial "
                                     "(deduplicate it or set discount_fallback)");
  EXPECT_EQ(error("a b\nc <s> d\n"), dir.file("corpus.txt") +
                                         ":2: special word <s> is not allowed in the corpus (set skip_symbols to "
                                         "treat <s>, </s> and <unk> as whitespace)");
  o.prune = {2, 1};
  EXPECT_EQ(error(kExampleText), "prune: thresholds must be non-decreasing");
  o.prune = {};
  o.discount_fallback = {0.5, 2.5};
  EXPECT_EQ(error(kExampleText), "discount_fallback: D2 must lie in [0, 2], got 2.5");
}

// Random corpus: Zipf-distributed words, sentences of 0..max_len words, always '\n'-terminated.
std::string random_corpus(unsigned seed, int vocab, int sentences, int max_len) {
  std::mt19937 rng(seed);
  std::vector<double> weights(vocab);
  for (int i = 0; i < vocab; ++i) weights[i] = 1.0 / (i + 1);
  std::discrete_distribution<int> word(weights.begin(), weights.end());
  std::uniform_int_distribution<int> length(0, max_len);
  std::string text;
  for (int s = 0; s < sentences; ++s) {
    int n = length(rng);
    for (int i = 0; i < n; ++i) text += (i ? " " : "") + std::string("w") + std::to_string(word(rng));
    text += '\n';
  }
  return text;
}

struct RefCase {
  int order;
  std::vector<uint64_t> prune;
  uint64_t vocab_limit;
  bool letters;
  unsigned seed;
  bool interpolate_unigrams = true;
};

std::string ref_options(const RefCase& c) {
  std::string s = " --order " + std::to_string(c.order) + " --discount-fallback";
  if (!c.prune.empty()) {
    s += " --prune";
    for (auto t : c.prune) s += " " + std::to_string(t);
  }
  if (c.vocab_limit) s += " --vocab-limit " + std::to_string(c.vocab_limit);
  if (c.letters) s += " --letters";
  if (!c.interpolate_unigrams) s += " --interpolate-unigrams 0";
  return s;
}

class KneserNeyVsReference : public ::testing::TestWithParam<RefCase> {};

TEST_P(KneserNeyVsReference, SameArpaAndPerplexity) {
  const RefCase& c = GetParam();
  test::ScratchDir dir;
  const std::string text = random_corpus(c.seed, 12 + 9 * static_cast<int>(c.seed % 5), 300, 9);
  KneserNeyOptions o;
  o.order = c.order;
  o.prune = c.prune;
  o.vocab_limit = c.vocab_limit;
  o.letters = c.letters;
  o.interpolate_unigrams = c.interpolate_unigrams;
  o.discount_fallback = {0.5, 1.0, 1.5};
  build(dir, text, o, "ours.arpa.gz");
  ASSERT_EQ(test::run(test::oracle("ngram_ref.py") + " build " + dir.file("corpus.txt") + " " + dir.file("ref.arpa") +
                      ref_options(c)),
            0);
  test::expect_same_arpa(test::read_arpa_table(dir.file("ours.arpa.gz")), test::read_arpa_table(dir.file("ref.arpa")),
                         1e-4);

  // Held-out text (other seed: OOVs included) scored by our model and by the reference.
  std::string heldout = random_corpus(c.seed + 1000, 40, 40, 9);
  if (c.letters) {
    std::string spaced;
    for (char ch : heldout) spaced += ch == ' ' ? std::string(" | ") : ch == '\n' ? std::string(" |\n") : std::string(1, ch) + " ";
    heldout = spaced;
  }
  write_file_atomic(dir.file("heldout.txt"), heldout);
  auto model = NgramModel::from_arpa(dir.file("ours.arpa.gz"));
  QuerySummary sum = query_text(*model, dir.file("heldout.txt"), nullptr);
  ASSERT_EQ(test::run(test::oracle("ngram_ref.py") + " query " + dir.file("ref.arpa") + " < " +
                      dir.file("heldout.txt") + " > " + dir.file("ref.query")),
            0);
  std::istringstream ref(read_file(dir.file("ref.query")));
  std::string line;
  double ppl_in = 0, ppl_ex = 0;
  uint64_t oovs = 0, tokens = 0;
  std::vector<double> ref_totals;
  while (std::getline(ref, line))
    if (line.rfind("ppl ", 0) == 0)
      std::istringstream(line.substr(4)) >> ppl_in >> ppl_ex >> oovs >> tokens;
    else
      ref_totals.push_back(std::stod(line));
  // Per sentence: our state-minimised scoring vs the reference's full-history back-off formula.
  std::ostringstream printed;
  query_text(*model, dir.file("heldout.txt"), &printed);
  std::istringstream lines(printed.str());
  size_t sentence = 0;
  while (std::getline(lines, line)) {
    const size_t at = line.find("Total: ");
    if (at == std::string::npos) continue;
    ASSERT_LT(sentence, ref_totals.size());
    EXPECT_NEAR(std::stod(line.substr(at + 7)), ref_totals[sentence], 1e-4) << "sentence " << sentence;
    ++sentence;
  }
  EXPECT_EQ(sentence, ref_totals.size());
  EXPECT_EQ(sum.tokens, tokens);
  EXPECT_EQ(sum.oovs, oovs);
  EXPECT_NEAR(std::log10(sum.perplexity_including_oovs()), std::log10(ppl_in), 1e-4);
  EXPECT_NEAR(std::log10(sum.perplexity_excluding_oovs()), std::log10(ppl_ex), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(RandomCorpora, KneserNeyVsReference,
                         ::testing::Values(RefCase{1, {}, 0, false, 1}, RefCase{2, {}, 0, false, 2},
                                           RefCase{3, {}, 0, false, 3}, RefCase{4, {}, 0, false, 4},
                                           RefCase{5, {}, 0, false, 5}, RefCase{3, {0, 1}, 0, false, 6},
                                           RefCase{4, {0, 0, 1}, 0, false, 7}, RefCase{4, {0, 1}, 0, false, 8},
                                           RefCase{5, {1}, 0, false, 9}, RefCase{3, {}, 10, false, 10},
                                           RefCase{4, {0, 1}, 8, false, 11}, RefCase{5, {}, 0, true, 12},
                                           RefCase{2, {}, 0, false, 13}, RefCase{3, {}, 0, false, 14},
                                           RefCase{3, {0, 1}, 0, false, 15, false}),
                         [](const ::testing::TestParamInfo<RefCase>& info) {
                           const RefCase& c = info.param;
                           std::string name = "order" + std::to_string(c.order);
                           for (auto t : c.prune) name += "_prune" + std::to_string(t);
                           if (c.vocab_limit) name += "_vocab" + std::to_string(c.vocab_limit);
                           if (c.letters) name += "_letters";
                           if (!c.interpolate_unigrams) name += "_uninterpolated";
                           return name + "_seed" + std::to_string(c.seed);
                         });

TEST(KneserNey, ArpaRoundTripIsExact) {
  test::ScratchDir dir;
  KneserNeyOptions o;
  o.order = 4;
  o.discount_fallback = {0.5, 1.0, 1.5};
  build(dir, random_corpus(99, 30, 200, 8), o);
  const auto first = test::read_arpa_table(dir.file("lm.arpa"));
  // Re-write what was read (through the .gz writer) and read it again: bit-identical values.
  std::vector<std::vector<std::pair<std::string, std::pair<float, float>>>> by_order(4);
  for (const auto& [k, v] : first.ngrams) by_order[std::count(k.begin(), k.end(), ' ')].push_back({k, v});
  write_text_atomic(dir.file("again.arpa.gz"), [&](std::ostream& out) {
    write_arpa(out, first.counts, [&](int n, const std::function<void(const ArpaEntry&)>& emit) {
      for (const auto& [k, v] : by_order[n - 1]) {
        ArpaEntry e;
        std::string_view rest(k);
        for (size_t sp; (sp = rest.find(' ')) != std::string_view::npos; rest.remove_prefix(sp + 1))
          e.words.push_back(rest.substr(0, sp));
        e.words.push_back(rest);
        e.log10_prob = v.first;
        e.log10_backoff = v.second;
        emit(e);
      }
    });
  });
  test::expect_same_arpa(first, test::read_arpa_table(dir.file("again.arpa.gz")), 0.0);
}

}  // namespace
}  // namespace w2v::lm
