// Hostile LM files (issue 13): a corrupt w2v binary (string-offset table, full hash tables) and
// ARPA headers that declare more n-grams than the file can hold give one clear error or a
// bounded answer, never a crash, a hang or a huge allocation.
#include <gtest/gtest.h>

#include <cstring>

#include "lm/arpa.h"
#include "lm/ngram_model.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kExample = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/spec_example.arpa";
const std::string kW2v = W2V_BINARY;

// Byte positions of header fields of the w2v binary format (see NgramModel::Header).
constexpr size_t kBucketsAt = 112, kOffsetsAt = 176, kVocabOffsetAt = 240, kStringOffsetsAt = 248;

uint64_t u64_at(const std::string& bytes, size_t at) {
  uint64_t v;
  std::memcpy(&v, bytes.data() + at, 8);
  return v;
}
void set_u64(std::string& bytes, size_t at, uint64_t v) { std::memcpy(bytes.data() + at, &v, 8); }

std::string load_error(const std::string& path) {
  try {
    load_language_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

struct BinaryFixture : ::testing::Test {
  test::ScratchDir dir;
  std::string good;
  void SetUp() override {
    NgramModel::from_arpa(kExample)->write_binary(dir.file("lm.bin"));
    good = read_file(dir.file("lm.bin"));
  }
  std::string write(const std::string& bytes) {
    write_file_atomic(dir.file("bad.bin"), bytes);
    return dir.file("bad.bin");
  }
};

TEST_F(BinaryFixture, CorruptStringOffsetTableIsRejectedOnLoad) {
  std::string bad = good;
  set_u64(bad, u64_at(good, kStringOffsetsAt) + 3 * 8, uint64_t{1} << 40);  // word 3 ends far outside the file
  const std::string path = write(bad);
  EXPECT_EQ(load_error(path), path + ": binary LM is corrupt: string offsets decrease at word 3");
  // The commands that open LMs print that one line and exit 1 (they crashed with SIGSEGV).
  ASSERT_EQ(test::run("printf 'the cat\\n' | " + kW2v + " lm query " + path + " > /dev/null 2> " + dir.file("err")), 1);
  EXPECT_EQ(read_file(dir.file("err")), "w2v: error: " + path + ": binary LM is corrupt: string offsets decrease at word 3\n");
  ASSERT_EQ(test::run(kW2v + " lexicon --lm " + path + " -o " + dir.file("lex.txt") + " 2> " + dir.file("err")), 1);
  EXPECT_NE(read_file(dir.file("err")).find("string offsets decrease"), std::string::npos);
}

TEST_F(BinaryFixture, SectionOutsideTheFileIsRejected) {
  std::string bad = good;
  set_u64(bad, kBucketsAt, uint64_t{1} << 62);  // vocabulary table of 2^62 slots
  EXPECT_NE(load_error(write(bad)).find("vocabulary table outside the file"), std::string::npos);
  bad = good;
  set_u64(bad, kOffsetsAt + 8, ~uint64_t{0} - 15);  // bigram table offset that wraps around
  EXPECT_NE(load_error(write(bad)).find("2-gram table outside the file"), std::string::npos);
}

TEST_F(BinaryFixture, FullVocabularyHashEndsTheLookup) {
  std::string bad = good;
  const uint64_t at = u64_at(good, kVocabOffsetAt), slots = u64_at(good, kBucketsAt);
  for (uint64_t i = 0; i < slots; ++i) set_u64(bad, at + 16 * i, 0x5555555555555554ull + 2 * i);  // no empty slot
  auto model = NgramModel::load(write(bad));
  EXPECT_EQ(model->index(std::string("zebra")), model->unk_index());  // probed forever before
  EXPECT_EQ(model->index(std::string("cat")), model->unk_index());
}

TEST_F(BinaryFixture, FullNgramTableEndsTheLookup) {
  std::string bad = good;
  for (int k = 1; k <= 2; ++k) {
    const uint64_t at = u64_at(good, kOffsetsAt + 8 * k), slots = u64_at(good, kBucketsAt + 8 * k);
    for (uint64_t i = 0; i < slots; ++i) set_u64(bad, at + 16 * i, 0x5555555555555554ull + 2 * i);
  }
  auto model = NgramModel::load(write(bad));
  State s = model->begin();
  for (const char* w : {"the", "dog", "sat"}) {
    ScoreResult r = model->score(s, model->index(std::string(w)));
    EXPECT_LE(r.log10_prob, 0.0f);
    s = r.next;
  }
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
