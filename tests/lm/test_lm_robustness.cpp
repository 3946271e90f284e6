// Hostile LM files (issue 13): a KenLM probing file whose hash tables have no empty slot and
// ARPA headers that declare more n-grams than the file can hold give one clear error or a
// bounded answer, never a crash, a hang or a huge allocation (corrupt KenLM headers and
// sections: KenlmBinary.UnsupportedOrBrokenFilesGiveOneLine).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "lm/ngram_model.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kProbing = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/kenlm/probing.bin";
const std::string kW2v = W2V_BINARY;

void set_u64(std::string& bytes, size_t at, uint64_t v) { std::memcpy(bytes.data() + at, &v, 8); }

std::string load_error(const std::string& path) {
  try {
    load_language_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Sections of probing.bin (build_binary probing of small4.arpa: order 4, 83/1058/197/25 n-grams)
// as KenLM lays them out: a 144-byte header, an 8-byte vocabulary header, then probing tables of
// max(n + 1, 1.5 n) buckets - vocabulary (12-byte entries), the 1-grams (8 bytes, n + 1 of them),
// 2- and 3-grams (16), 4-grams (12) - and the word strings.
struct ProbingFixture : ::testing::Test {
  struct Table {
    uint64_t at, buckets, stride;
  };
  test::ScratchDir dir;
  std::string good = read_file(kProbing);
  Table vocab{}, ngrams[3]{};  // ngrams[k]: order k + 2
  void SetUp() override {
    const uint64_t counts[4] = {83, 1058, 197, 25};
    auto buckets = [](uint64_t n) { return std::max<uint64_t>(n + 1, static_cast<uint64_t>(1.5f * n)); };
    vocab = {144 + 8, buckets(counts[0]), 12};
    uint64_t at = vocab.at + vocab.buckets * 12 + (counts[0] + 1) * 8;
    for (int k = 0; k < 3; ++k) {
      ngrams[k] = {at, buckets(counts[k + 1]), k < 2 ? 16u : 12u};
      at += ngrams[k].buckets * ngrams[k].stride;
    }
    ASSERT_LT(at, good.size());  // the word strings follow
  }
  // Every slot of the table taken by a key no lookup asks for.
  void fill(std::string& bytes, const Table& t) {
    for (uint64_t i = 0; i < t.buckets; ++i) set_u64(bytes, t.at + t.stride * i, 0x5555555555555554ull + 2 * i);
  }
  std::string write(const std::string& bytes) {
    write_file_atomic(dir.file("bad.bin"), bytes);
    return dir.file("bad.bin");
  }
};

TEST_F(ProbingFixture, FullVocabularyHashEndsTheLookup) {
  auto intact = open_language_model(kProbing);
  ASSERT_NE(intact->index(std::string("w17")), intact->unk_index());
  std::string bad = good;
  fill(bad, vocab);
  auto model = open_language_model(write(bad));
  EXPECT_EQ(model->index(std::string("zebra")), model->unk_index());
  EXPECT_EQ(model->index(std::string("w17")), model->unk_index());
}

TEST_F(ProbingFixture, FullNgramTablesEndTheLookup) {
  std::string bad = good;
  for (const Table& t : ngrams) fill(bad, t);
  auto model = open_language_model(write(bad));
  auto intact = open_language_model(kProbing);
  State s = model->begin(), t = intact->begin();
  int longest = 0;
  for (const char* w : {"w1", "w2", "w1", "w3", "w1", "w2"}) {
    int n = 0, m = 0;
    ScoreResult r = model->score(s, model->index(std::string(w)), &n);
    ScoreResult e = intact->score(t, intact->index(std::string(w)), &m);
    EXPECT_EQ(n, 1);  // no n-gram above the 1-grams can be found
    EXPECT_LE(r.log10_prob, 0.0f);
    longest = std::max(longest, m);
    s = r.next;
    t = e.next;
  }
  EXPECT_GT(longest, 1);  // while the intact file finds some
}

TEST(ArpaHeader, CountsMustFitTheFile) {
  test::ScratchDir dir;
  const std::string text = "\\data\\\nngram 1=3\nngram 2=100000000\n\n\\1-grams:\n-1 <unk>\n0 <s> -0.5\n-1 </s>\n\n"
                           "\\2-grams:\n-0.5 <s> </s>\n\n\\end\\\n";
  write_file_atomic(dir.file("big.arpa"), text);
  const std::string want = dir.file("big.arpa") + ":3: the header declares 100000000 2-grams, more than " +
                           std::to_string(text.size()) + " bytes of text can hold";
  EXPECT_EQ(load_error(dir.file("big.arpa")), want);
  // gzip: bounded by deflate's maximum expansion (1032:1) of the compressed size.
  ASSERT_EQ(test::run("gzip -c " + dir.file("big.arpa") + " > " + dir.file("big.arpa.gz")), 0);
  EXPECT_NE(load_error(dir.file("big.arpa.gz")).find("declares 100000000 2-grams, more than"), std::string::npos);
  // A count that fits passes the check and fails on the missing lines, as before.
  std::string fits = text;
  fits.replace(fits.find("100000000"), 9, "2");
  write_file_atomic(dir.file("fits.arpa"), fits);
  EXPECT_EQ(load_error(dir.file("fits.arpa")), dir.file("fits.arpa") + ":12: header declares 2 2-grams but the section has 1");
  // The CLI says the same in one line (it allocated 4.3 GB first; 1e10 ended in bad_alloc).
  write_file_atomic(dir.file("huge.arpa"), "\\data\\\nngram 1=10000000000\n\n\\1-grams:\n-1 <unk>\n\\end\\\n");
  ASSERT_EQ(test::run("echo a | " + kW2v + " lm query " + dir.file("huge.arpa") + " 2> " + dir.file("err")), 1);
  EXPECT_NE(read_file(dir.file("err")).find(":2: the header declares 10000000000 1-grams"), std::string::npos);
}

}  // namespace
}  // namespace w2v::lm
