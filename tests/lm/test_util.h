// Helpers shared by the LM tests: scratch directory, running the Python oracle, reading ARPA.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lm/arpa.h"
#include "util/fs.h"

namespace w2v::lm::test {

// A fresh directory per test, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("w2v_lm_") + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs a shell command and returns its exit status; stdout/stderr go to the test log.
inline int run(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string oracle(const std::string& script) {
  return std::string("/usr/bin/python3 ") + W2V_SOURCE_DIR + "/tools/oracle/" + script;
}

// ARPA file as a map "w1 w2 ..." -> {log10 prob, log10 backoff}, plus the declared counts.
struct ArpaTable {
  std::vector<uint64_t> counts;
  std::map<std::string, std::pair<float, float>> ngrams;
};

inline ArpaTable read_arpa_table(const std::string& path) {
  ArpaTable t;
  ArpaReader::read(
      path, [&](const std::vector<uint64_t>& c) { t.counts = c; },
      [&](const ArpaNgram& g) {
        std::string key;
        for (size_t i = 0; i < g.words.size(); ++i) key += (i ? " " : "") + std::string(g.words[i]);
        t.ngrams[key] = {g.log10_prob, g.log10_backoff};
      });
  return t;
}

// Same n-gram sets and counts, every value within tol (equal infinities count as equal).
inline void expect_same_arpa(const ArpaTable& a, const ArpaTable& b, double tol) {
  ASSERT_EQ(a.counts, b.counts);
  ASSERT_EQ(a.ngrams.size(), b.ngrams.size());
  for (const auto& [key, value] : a.ngrams) {
    auto it = b.ngrams.find(key);
    ASSERT_TRUE(it != b.ngrams.end()) << "missing n-gram '" << key << "'";
    auto near = [&](float x, float y) { return x == y || std::abs(double(x) - double(y)) <= tol; };
    EXPECT_TRUE(near(value.first, it->second.first)) << key << ": prob " << value.first << " vs " << it->second.first;
    EXPECT_TRUE(near(value.second, it->second.second))
        << key << ": backoff " << value.second << " vs " << it->second.second;
  }
}

}  // namespace w2v::lm::test
