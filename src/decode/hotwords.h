// Hotwords (contextual biasing, issue 18.7): words and phrases a beam search favours. A
// hypothesis earns a phrase's boost, spread evenly over its labels (words for the lexicon
// decoder, tokens for the lexicon-free one), as it matches them; a match that breaks off gives
// back what it had not completed, so only whole phrases keep a bonus and the other words score
// exactly as without hotwords. The match state is part of the hypothesis (merge key).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "decode/options.h"
#include "decode/post_process.h"
#include "decode/tokens.h"

namespace w2v::decode {

// The boost of a hotword whose line names none (score units: natural-log emissions; see
// docs/decoding.md for how it was chosen).
constexpr double kDefaultHotwordBoost = 4.0;

// File: one hotword per line, `WORD [WORD ...] [BOOST]` (whitespace-separated; a last field
// that is a number is the boost, else `default_boost`); blank lines and lines starting with '#'
// are skipped. Errors name file:line.
std::vector<Hotword> load_hotwords(const std::string& path, double default_boost);
std::vector<Hotword> parse_hotwords(const std::string& content, const std::string& name, double default_boost);

// A word's spelling in the model's units, for words no lexicon spells: greedy longest match of
// the word (with the post-process's word-start mark, if it has one) against the token symbols,
// then the silence token when `end_with_silence`. Throws naming the word when a character
// matches no token.
std::vector<int> spell_word(const std::string& word, const TokenSet& tokens, PostProcess post_process,
                            bool end_with_silence);

// Prefix tree over label sequences with the bonus bookkeeping. States: kRoot (no partial
// match), a node id (partial match), kDead (lexicon-free: inside a word that started as no
// hotword; a match can only begin after the next word boundary).
class BiasTrie {
 public:
  static constexpr int kRoot = 0, kDead = -1;

  BiasTrie() : nodes_(1) {}
  void add(const std::vector<int>& labels, double boost);
  bool empty() const { return nodes_.size() == 1; }

  // Advances `state` by one label and returns the score change. `restart`: a broken match may
  // begin again with this very label (word labels); otherwise it waits in kDead until the
  // `boundary` label (token labels: the silence token; -1 for none).
  double step(int& state, int label, bool restart, int boundary) const;
  // Score change at the end of the input: an unfinished match is given back, except one that
  // only lacks a final `boundary` label.
  double finish(int state, int boundary) const;
  // What reaching `node` has added so far (the look-ahead a search may use).
  double bonus(int node) const { return node > 0 ? nodes_[node].bonus : 0.0; }
  int child(int node, int label) const;

 private:
  struct Node {
    double bonus = 0;   // max over the phrases through this node of boost × depth / length
    int parent = -1, phrases = 0;
    bool end = false, leaf = true;
  };
  double enter(int& state, int label) const;
  // Bonus of the longest phrase completed on the way to `node`: what a break there keeps.
  double banked(int node) const;
  std::vector<Node> nodes_;
  std::unordered_map<unsigned long long, int> edges_;
};

}  // namespace w2v::decode
