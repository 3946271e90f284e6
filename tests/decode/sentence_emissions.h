// Emissions shaped like a trained CTC model's, for decoder tests that need long inputs: a random
// sentence of lexicon words, each token peaking for 1-3 frames with blanks and silences
// between, plus Gaussian noise on every logit (seeded).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "decode/lexicon.h"

namespace w2v::decode::testing {

struct Sentence {
  std::vector<float> data;         // frames × vocab
  std::vector<std::string> words;  // what was "said"
};

inline Sentence sentence_emissions(const TokenSet& tokens, const Lexicon& lex, int frames, unsigned seed,
                                   float peak = 4.f, float noise = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, noise);
  const int V = tokens.size();
  Sentence s;
  s.data.resize(static_cast<size_t>(frames) * V);
  for (auto& x : s.data) x = normal(rng);
  int t = 0;
  auto emit = [&](int token, int count) {
    for (int i = 0; i < count && t < frames; ++i, ++t) s.data[static_cast<size_t>(t) * V + token] += peak;
  };
  while (t < frames) {
    const auto& entry = lex.entries()[rng() % lex.size()];
    if (entry.spellings.empty()) continue;  // <unk>
    s.words.push_back(entry.word);
    for (int token : entry.spellings[0]) {
      emit(token, 1 + rng() % 3);
      emit(tokens.blank(), rng() % 2);
    }
    if (rng() % 3 == 0) emit(tokens.blank(), 2);
  }
  return s;
}

}  // namespace w2v::decode::testing
