// Shared by the alignment tests: a letter dictionary, peaky emissions along a known path, a CTC
// path validity check, and the Python oracle (tools/oracle/ctc_align.py) run live.
#pragma once

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "align/ctc_viterbi.h"
#include "common/run_command.h"

namespace w2v::align::test {

// fairseq's letter dictionary layout: specials, the word separator, letters, apostrophe.
inline std::vector<std::string> letter_symbols() {
  std::vector<std::string> s = {"<s>", "<pad>", "</s>", "<unk>", "|"};
  for (char c = 'A'; c <= 'Z'; ++c) s.emplace_back(1, c);
  s.emplace_back("'");
  return s;
}

struct Matrix {
  int frames = 0, vocab = 0;
  std::vector<float> data;
  decode::Emissions view() const { return {data.data(), frames, vocab}; }
};

// Emissions whose frames favour the labels of a random CTC path for `labels` (label runs of
// 1..4 frames, 0..gap blank frames between labels and around them): the path's symbol gets
// +peak over N(0, 1) noise. Returns the path's states through `states` when given.
inline Matrix peaky(const std::vector<int>& labels, int vocab, int blank, std::mt19937& rng, int gap = 6,
                    float peak = 5.f, std::vector<int>* states = nullptr) {
  std::uniform_int_distribution<int> run(1, 4), pause(0, gap);
  std::normal_distribution<float> noise(0.f, 1.f);
  std::vector<int> path;
  for (int i = pause(rng); i > 0; --i) path.push_back(0);
  for (size_t k = 0; k < labels.size(); ++k) {
    int blanks = pause(rng);
    if (k > 0 && labels[k] == labels[k - 1] && blanks == 0) blanks = 1;
    for (int i = 0; i < blanks; ++i) path.push_back(2 * static_cast<int>(k));
    for (int i = run(rng); i > 0; --i) path.push_back(2 * static_cast<int>(k) + 1);
  }
  for (int i = pause(rng); i >= 0; --i) path.push_back(2 * static_cast<int>(labels.size()));
  Matrix m;
  m.frames = static_cast<int>(path.size());
  m.vocab = vocab;
  m.data.resize(static_cast<size_t>(m.frames) * vocab);
  for (int t = 0; t < m.frames; ++t) {
    for (int v = 0; v < vocab; ++v) m.data[static_cast<size_t>(t) * vocab + v] = noise(rng);
    const int s = path[t];
    m.data[static_cast<size_t>(t) * vocab + (s % 2 ? labels[s / 2] : blank)] += peak;
  }
  if (states) *states = path;
  return m;
}

// A legal CTC path for labels: starts in state 0 or 1, ends in 2L-1 or 2L, and every step
// stays, moves by one, or skips a blank between two different labels.
inline ::testing::AssertionResult valid_path(const std::vector<int>& states, const std::vector<int>& labels) {
  const int S = 2 * static_cast<int>(labels.size()) + 1;
  if (states.empty() || states[0] > 1) return ::testing::AssertionFailure() << "bad start";
  if (states.back() < S - 2) return ::testing::AssertionFailure() << "ends in state " << states.back();
  for (size_t t = 1; t < states.size(); ++t) {
    const int a = states[t - 1], b = states[t];
    const bool ok = b == a || b == a + 1 || (b == a + 2 && b % 2 == 1 && labels[b / 2] != labels[b / 2 - 1]);
    if (!ok) return ::testing::AssertionFailure() << "illegal step " << a << " -> " << b << " at frame " << t;
  }
  return ::testing::AssertionSuccess();
}

struct OracleCase {
  const Matrix* emissions;
  std::vector<int> labels;
  int blank = 0;
};

struct OracleResult {
  std::vector<int> states;
  double score = 0;
};

// Runs the oracle on every case at once. Floats are written as the exact double of their value.
inline std::vector<OracleResult> oracle(const std::vector<OracleCase>& cases, const std::string& scratch) {
  std::string json = "{\"cases\": [";
  for (size_t c = 0; c < cases.size(); ++c) {
    const Matrix& m = *cases[c].emissions;
    json += c ? ", {\"emissions\": [" : "{\"emissions\": [";
    for (int t = 0; t < m.frames; ++t) {
      json += t ? ", [" : "[";
      for (int v = 0; v < m.vocab; ++v)
        json += fmt::format("{}{}", v ? ", " : "", static_cast<double>(m.data[static_cast<size_t>(t) * m.vocab + v]));
      json += "]";
    }
    json += "], \"labels\": [";
    for (size_t k = 0; k < cases[c].labels.size(); ++k) json += fmt::format("{}{}", k ? ", " : "", cases[c].labels[k]);
    json += fmt::format("], \"blank\": {}}}", cases[c].blank);
  }
  json += "]}";
  std::filesystem::create_directories(std::filesystem::path(scratch).parent_path());
  std::ofstream(scratch) << json;
  std::string out;
  const int rc = w2v::test::run_command(
      "/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/tools/oracle/ctc_align.py < " + scratch, out);
  EXPECT_EQ(rc, 0) << out;
  std::vector<OracleResult> results;
  if (rc != 0) return results;
  for (const auto& r : nlohmann::json::parse(out))
    results.push_back({r["states"].get<std::vector<int>>(), r["score"].get<double>()});
  return results;
}

}  // namespace w2v::align::test
