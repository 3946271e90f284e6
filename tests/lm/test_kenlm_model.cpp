// KenLM's binary files (probing, rest probing, trie, quantized trie, trie with -a, both) read
// natively: query output equal byte for byte to KenLM's `query` on the same file (fixtures and
// expected output made by KenLM itself: tests/lm/data/kenlm/README.md), through the library and
// through the commands that accept an LM; unsupported or broken files give one line.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "lm/kenlm_model.h"
#include "lm/ngram_model.h"
#include "lm/query.h"
#include "test_util.h"
#include "util/error.h"

namespace w2v::lm {
namespace {

const std::string kData = std::string(W2V_SOURCE_DIR) + "/tests/lm/data/kenlm/";
const std::string kW2v = W2V_BINARY;
const char* const kBinaries[] = {"probing", "rest_probing", "trie", "quant_trie", "bhiksha_trie", "quant_bhiksha_trie"};

std::string query_output(const std::string& model_path) {
  auto model = open_language_model(model_path);
  std::ostringstream out;
  query_text(*model, kData + "test.txt", &out);
  return out.str();
}

TEST(KenlmBinary, QueryEqualsKenlmQueryOnEveryStructure) {
  for (const char* name : kBinaries) {
    const std::string path = kData + name + ".bin";
    ASSERT_TRUE(is_kenlm_binary(path)) << name;
    const std::string want = read_file(kData + name + ".query.txt");
    ASSERT_GT(want.size(), 1000u);
    EXPECT_EQ(query_output(path), want) << name;
  }
  // The ARPA the binaries were built from, through w2v's own loader, gives KenLM's ARPA output.
  EXPECT_EQ(query_output(kData + "small4.arpa.gz"), read_file(kData + "arpa.query.txt"));
}

TEST(KenlmBinary, DecoderInterfaceAndVocabulary) {
  auto arpa = NgramModel::from_arpa(kData + "small4.arpa.gz");
  for (const char* name : kBinaries) {
    auto lm = load_language_model(kData + name + ".bin");  // the decoders' entry point
    auto model = open_language_model(kData + name + ".bin");
    EXPECT_EQ(lm->order(), 4) << name;
    EXPECT_EQ(model->vocab_size(), arpa->vocab_size()) << name;
    ASSERT_TRUE(model->has_words());
    // Same word set, each id mapping back to its word; <unk> is 0 as in KenLM.
    std::set<std::string> words, want;
    for (WordIndex i = 0; i < model->vocab_size(); ++i) {
      words.emplace(model->word(i));
      want.emplace(arpa->word(i));
      EXPECT_EQ(model->index(model->word(i)), i) << name << " " << model->word(i);
    }
    EXPECT_EQ(words, want) << name;
    EXPECT_EQ(model->word(model->unk_index()), "<unk>");
    EXPECT_EQ(model->word(model->bos_index()), "<s>");
    EXPECT_EQ(model->word(model->eos_index()), "</s>");
    EXPECT_EQ(model->index(std::string("not-a-word")), 0u);
    // Unquantized structures store the ARPA's floats: a sentence scores identically.
    const bool quantized = std::string(name).find("quant") != std::string::npos;
    State s1 = model->begin(), s2 = arpa->begin();
    float total1 = 0, total2 = 0;
    for (const char* w : {"w0", "w1", "w2", "w3", "w0", "w1", "zzz", "w4"}) {
      ScoreResult r1 = model->score(s1, model->index(std::string(w)));
      ScoreResult r2 = arpa->score(s2, arpa->index(std::string(w)));
      total1 += r1.log10_prob;
      total2 += r2.log10_prob;
      if (!quantized) {
        EXPECT_EQ(r1.log10_prob, r2.log10_prob) << name << " " << w;
      }
      EXPECT_EQ(r1.next.length, r2.next.length) << name << " " << w;
      s1 = r1.next;
      s2 = r2.next;
    }
    EXPECT_NEAR(total1, total2, quantized ? 0.5 : 1e-5) << name;
    EXPECT_NEAR(model->finish(s1), arpa->finish(s2), quantized ? 0.2 : 1e-6) << name;
  }
}

TEST(KenlmBinary, CommandsAcceptKenlmFiles) {
  test::ScratchDir dir;
  for (const char* name : {"probing", "quant_bhiksha_trie"}) {
    ASSERT_EQ(test::run(kW2v + " lm query " + kData + name + ".bin --input " + kData + "test.txt > " + dir.file("q.txt")), 0);
    EXPECT_EQ(read_file(dir.file("q.txt")), read_file(kData + name + ".query.txt")) << name;
    ASSERT_EQ(test::run(kW2v + " lexicon --lm " + kData + name + ".bin -o " + dir.file("lex.txt") + " 2>/dev/null"), 0);
    std::istringstream lex(read_file(dir.file("lex.txt")));
    std::set<std::string> lines;
    for (std::string line; std::getline(lex, line);) lines.insert(line);
    EXPECT_EQ(lines.size(), 80u) << name;  // every word but <unk>, <s>, </s>
    EXPECT_EQ(lines.count("w17\tw 1 7 |"), 1u) << name;
  }
}

// w2v's writer gives the very file `build_binary probing` gave (library and `lm compile`), the
// only binary it writes.
TEST(KenlmBinary, CompileWritesBuildBinarysProbingFile) {
  test::ScratchDir dir;
  write_kenlm_probing(kData + "small4.arpa.gz", dir.file("ours.bin"));
  EXPECT_TRUE(read_file(dir.file("ours.bin")) == read_file(kData + "probing.bin"));
  ASSERT_EQ(test::run(kW2v + " lm compile " + kData + "small4.arpa.gz -o " + dir.file("cli.bin") + " 2>/dev/null"), 0);
  EXPECT_TRUE(read_file(dir.file("cli.bin")) == read_file(kData + "probing.bin"));
  // The binary format w2v wrote before is refused by the commands in one line.
  write_file_atomic(dir.file("old.bin"), std::string("w2vNGRAM") + std::string(400, '\0'));
  ASSERT_EQ(test::run(kW2v + " lm query " + dir.file("old.bin") + " < /dev/null 2> " + dir.file("err")), 1);
  EXPECT_EQ(read_file(dir.file("err")), "w2v: error: " + dir.file("old.bin") +
                                            ": w2v's own binary LM format (w2vNGRAM) is no longer read; recompile the "
                                            "ARPA with `w2v lm compile` (it writes KenLM's probing format)\n");
  ASSERT_NE(test::run(kW2v + " lm compile --format w2v " + kData + "small4.arpa.gz -o " + dir.file("w2v.bin") +
                      " 2>/dev/null"),
            0);  // one way to write a binary
}

std::string open_error(const std::string& path) {
  try {
    open_language_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(KenlmBinary, UnsupportedOrBrokenFilesGiveOneLine) {
  test::ScratchDir dir;
  const std::string good = read_file(kData + "trie.bin");
  auto write = [&](const std::string& bytes) {
    write_file_atomic(dir.file("x.bin"), bytes);
    return dir.file("x.bin");
  };
  std::string v4 = good;
  v4[49] = '4';  // "... format version 5\n"
  std::string path = write(v4);
  EXPECT_EQ(open_error(path),
            path + ": KenLM binary format version 4; w2v reads version 5 (rebuild it from the ARPA with build_binary)");
  EXPECT_EQ(open_error(write("mmap lm http://kheafield.com/code incomplete\n" + std::string(100, '\0'))),
            path + ": this KenLM binary did not finish building (build_binary failed or was killed)");
  std::string type = good;
  type[96] = 9;  // FixedWidthParameters::model_type
  EXPECT_EQ(open_error(write(type)), path + ": unknown KenLM model type 9");
  EXPECT_EQ(open_error(write(good.substr(0, good.size() / 2))),
            path + ": KenLM binary is truncated: its 2-grams ends past the end of the file");
  std::string count = good;
  count[108 + 8 + 7] = 0x40;  // the 2-gram count, 2^62 (counts follow the 108-byte fixed header)
  EXPECT_NE(open_error(write(count)).find("KenLM binary declares"), std::string::npos);
  std::string quant = read_file(kData + "quant_trie.bin");
  const size_t search = 144 + 8 * 84;  // 144-byte header, then the sorted vocabulary (count + 83 slots)
  ASSERT_EQ(quant[search], 2);         // quantization format version
  quant[search + 1] = 40;
  EXPECT_EQ(open_error(write(quant)), path + ": KenLM quantization with 40 probability and 8 backoff bits (1 to 25 each)");
  ASSERT_EQ(test::run(kW2v + " lm query " + write(v4) + " < /dev/null 2> " + dir.file("err")), 1);
  EXPECT_EQ(read_file(dir.file("err")),
            "w2v: error: " + path + ": KenLM binary format version 4; w2v reads version 5 (rebuild it from the ARPA with build_binary)\n");
}

}  // namespace
}  // namespace w2v::lm
