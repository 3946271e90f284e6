// What the data tests share: errors as text, small files, and a LibriSpeech-shaped corpus
// written with real FLAC files (the corpus tools' input and the loader tests' data).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "util/error.h"

namespace w2v::test {

// The message of the w2v::Error that f throws (a test failure when it throws none).
template <typename F>
inline std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A LibriSpeech-shaped tree: spk/chapter/spk-chapter-NNNN.flac + spk-chapter.trans.txt.
struct Tree {
  std::vector<std::string> rel_paths;
  std::vector<std::string> texts;
};

inline Tree make_librispeech_tree(const std::string& root, int speakers, int per_chapter) {
  Tree tree;
  const std::vector<std::string> words = {"HELLO", "WORLD", "IT'S", "A", "SMALL", "TEST", "OF", "THE", "CORPUS"};
  std::mt19937 rng(7);
  for (int s = 0; s < speakers; ++s) {
    const std::string spk = std::to_string(100 + s * 17), chapter = std::to_string(2000 + s);
    const std::string dir = root + "/" + spk + "/" + chapter;
    std::filesystem::create_directories(dir);
    std::string trans;
    for (int u = 0; u < per_chapter; ++u) {
      char id[64];
      std::snprintf(id, sizeof id, "%s-%s-%04d", spk.c_str(), chapter.c_str(), u);
      std::vector<float> x(1600 + 397 * ((s * per_chapter + u) % 11));
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * std::sin(0.05f * i * (1 + u));
      audio::write(dir + "/" + id + ".flac", x, 16000, audio::Encoding::kFlac16);
      std::string text;
      for (int w = 0; w < 2 + static_cast<int>(rng() % 5); ++w) text += (w ? " " : "") + words[rng() % words.size()];
      trans += std::string(id) + " " + text + "\n";
      tree.rel_paths.push_back(spk + "/" + chapter + "/" + id + ".flac");
      tree.texts.push_back(text);
    }
    write_text(dir + "/" + spk + "-" + chapter + ".trans.txt", trans);
  }
  return tree;
}

inline std::string w2v(const std::string& args) { return std::string(W2V_BINARY) + " " + args; }

}  // namespace w2v::test
