// The synthetic LibriSpeech-like decoding setup shared by the decoder benchmarks: V = 32
// (fairseq's letter dict), a 5 000-word lexicon of made-up words, a Zipf corpus with a word
// Kneser-Ney 4-gram and a letter 6-gram built by w2v's estimator, and emissions that spell Zipf
// sentences (each letter 1-2 frames, then 0-2 blanks, words end with '|') with `peak` on the
// spoken token and N(0, noise) on all. Optionally some sentence words are "weak" words spoken
// with a lower peak (hotword measurements). Deterministic for given options.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "decode/emissions.h"
#include "lm/kneser_ney.h"

namespace w2v::bench {

struct SyntheticOptions {
  double seconds = 15;
  int utterances = 8;
  float noise = 1.5f, peak = 6.f;
  std::vector<std::string> weak_words;  // drawn instead of a Zipf word with probability weak_rate
  double weak_rate = 0;
  float weak_peak = 3.f;
  unsigned seed = 99;  // for the weak-word draws only
  bool lms = true;     // false: vocabulary and lexicon only (no LM estimation)
};

inline const std::vector<std::string> kLetters = {"<s>", "<pad>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I",
                                           "H", "S", "R", "D", "L", "U", "M", "W", "C", "F", "G", "Y", "P",
                                           "B", "V", "K", "'", "X", "J", "Q", "Z"};

struct Setup {
  std::vector<std::string> vocab;
  std::vector<std::vector<float>> utterances;  // emissions [T, 32]
  std::vector<std::string> references;         // the words each utterance spells
  std::string lexicon_text, word_arpa, letter_arpa;
};

inline Setup make_setup(const SyntheticOptions& o) {
  const double seconds = o.seconds;
  const int utterances = o.utterances;
  Setup s;
  std::mt19937 rng(1234);
  const std::string consonants = "TNSRHDLCMWFGYPBVK", vowels = "EAOIU";
  std::set<std::string> seen;
  while (s.vocab.size() < 5000) {
    std::string w;
    int syllables = 1 + rng() % 3;
    for (int i = 0; i < syllables; ++i) {
      w += consonants[rng() % consonants.size()];
      w += vowels[rng() % vowels.size()];
      if (rng() % 2) w += consonants[rng() % consonants.size()];
    }
    if (seen.insert(w).second) s.vocab.push_back(w);
  }
  for (const auto& w : s.vocab) {
    s.lexicon_text += w;
    for (char c : w) s.lexicon_text += std::string(" ") + c;
    s.lexicon_text += " |\n";
  }
  // Zipf-distributed corpus for the LMs.
  std::vector<double> weights(s.vocab.size());
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 1.0 / (i + 1);
  std::discrete_distribution<size_t> zipf(weights.begin(), weights.end());
  std::string dir = std::filesystem::temp_directory_path() / "w2v_bench_decode";
  std::filesystem::create_directories(dir);
  std::string corpus = dir + "/corpus.txt";
  {
    std::ofstream out(corpus);
    for (int n = 0; n < 40000; ++n) {
      int len = 5 + rng() % 15;
      for (int i = 0; i < len; ++i) out << (i ? " " : "") << s.vocab[zipf(rng)];
      out << "\n";
    }
  }
  s.word_arpa = dir + "/words.arpa";
  s.letter_arpa = dir + "/letters.arpa";
  if (o.lms) {
    lm::KneserNeyOptions word_opts;
    word_opts.order = 4;
    word_opts.discount_fallback = {0.5, 1.0, 1.5};  // a synthetic corpus has odd counts-of-counts
    lm::estimate_kneser_ney(corpus, s.word_arpa, word_opts, nullptr);
    lm::KneserNeyOptions letter_opts;
    letter_opts.order = 6;
    letter_opts.letters = true;
    letter_opts.discount_fallback = {0.5, 1.0, 1.5};
    lm::estimate_kneser_ney(corpus, s.letter_arpa, letter_opts, nullptr);
  }

  // Emissions: a spoken Zipf sentence (each letter 1-2 frames, then 0-2 blanks; words end with
  // '|'), blank-padded to the length, +6 on the spoken token and N(0, 1.5) noise everywhere.
  std::normal_distribution<float> noise(0.f, o.noise);
  std::mt19937 weak_rng(o.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  const int V = static_cast<int>(kLetters.size());
  const int frames = static_cast<int>(seconds / decode::kFrameSeconds);
  for (int u = 0; u < utterances; ++u) {
    std::vector<int> path;
    std::string reference;
    while (true) {
      const bool weak = o.weak_rate > 0 && uniform(weak_rng) < o.weak_rate;
      const std::string& word = weak ? o.weak_words[weak_rng() % o.weak_words.size()] : s.vocab[zipf(rng)];
      std::vector<int> spoken;
      for (char c : word + "|") {
        int id = c == '|' ? 4 : static_cast<int>(std::find(kLetters.begin(), kLetters.end(), std::string(1, c)) - kLetters.begin());
        for (int k = 1 + rng() % 2; k > 0; --k) spoken.push_back(id);
        for (int k = rng() % 3; k > 0; --k) spoken.push_back(0);
      }
      if (path.size() + spoken.size() > static_cast<size_t>(frames)) break;
      // A weak word's frames peak lower (an acoustically unsure word), marked by a negative id.
      if (weak) for (int& id : spoken) id = -1 - id;
      path.insert(path.end(), spoken.begin(), spoken.end());
      reference += (reference.empty() ? "" : " ") + word;
    }
    path.resize(frames, 0);
    std::vector<float> e(static_cast<size_t>(frames) * V);
    for (int t = 0; t < frames; ++t)
      for (int v = 0; v < V; ++v)
        e[t * V + v] = noise(rng) + (v == path[t] ? o.peak : v == -1 - path[t] ? o.weak_peak : 0.f);
    s.utterances.push_back(std::move(e));
    s.references.push_back(std::move(reference));
  }
  return s;
}

}  // namespace w2v::bench
