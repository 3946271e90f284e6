#include "decode/hotwords.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::decode {

std::vector<Hotword> load_hotwords(const std::string& path, double default_boost) {
  return parse_hotwords(read_file(path), path, default_boost);
}

std::vector<Hotword> parse_hotwords(const std::string& content, const std::string& name, double default_boost) {
  std::vector<Hotword> out;
  std::istringstream in(content);
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string w; fields >> w;) words.push_back(w);
    if (words.empty() || words[0][0] == '#') continue;
    Hotword h{"", default_boost};
    const std::string& last = words.back();
    char* end = nullptr;
    const double boost = std::strtod(last.c_str(), &end);
    if (end && *end == '\0' && end != last.c_str()) {
      if (!std::isfinite(boost)) throw file_error(name, number, "boost '" + last + "' is not a finite number");
      if (words.size() == 1) throw file_error(name, number, "expected 'WORD [WORD ...] [BOOST]', got only a number");
      h.boost = boost;
      words.pop_back();
    }
    for (const auto& w : words) h.phrase += (h.phrase.empty() ? "" : " ") + w;
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<int> spell_word(const std::string& word, const TokenSet& tokens, PostProcess post_process,
                            bool end_with_silence) {
  std::string text = word;
  if (post_process == PostProcess::kWordpiece) text = "_" + word;
  if (post_process == PostProcess::kSentencepiece) text = "\u2581" + word;
  std::vector<int> out;
  for (size_t at = 0; at < text.size();) {
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < tokens.size(); ++i) {
      const std::string& s = tokens.symbol(i);
      if (tokens.is_special(i) || i == tokens.blank() || s.size() <= best_len || s.size() > text.size() - at) continue;
      if (text.compare(at, s.size(), s) == 0) best = i, best_len = s.size();
    }
    if (best < 0)
      throw Error("hotword '" + word + "': no token of the dictionary spells '" + text.substr(at) +
                  "' (add the word to the lexicon)");
    out.push_back(best);
    at += best_len;
  }
  if (end_with_silence) out.push_back(tokens.silence());
  return out;
}

int BiasTrie::child(int node, int label) const {
  auto it = edges_.find((static_cast<unsigned long long>(node) << 32) | static_cast<unsigned>(label));
  return it == edges_.end() ? -1 : it->second;
}

void BiasTrie::add(const std::vector<int>& labels, double boost) {
  if (labels.empty()) return;
  int node = kRoot;
  for (size_t d = 1; d <= labels.size(); ++d) {
    int next = child(node, labels[d - 1]);
    if (next < 0) {
      next = static_cast<int>(nodes_.size());
      nodes_.emplace_back();
      nodes_[next].parent = node;
      edges_.emplace((static_cast<unsigned long long>(node) << 32) | static_cast<unsigned>(labels[d - 1]), next);
    }
    nodes_[node].leaf = false;
    // The largest share of the phrases through this node (a negative boost, which suppresses a
    // phrase, counts where no other phrase passes).
    const double share = boost * static_cast<double>(d) / labels.size();
    Node& n = nodes_[next];
    n.bonus = n.phrases++ ? std::max(n.bonus, share) : share;
    node = next;
  }
  nodes_[node].end = true;
}

double BiasTrie::banked(int node) const {
  for (; node > 0; node = nodes_[node].parent)
    if (nodes_[node].end) return nodes_[node].bonus;
  return 0.0;
}

// Moves from the root or a partial match into `label`'s child, if any.
double BiasTrie::enter(int& state, int label) const {
  const int c = child(state, label);
  if (c < 0) return 0.0;
  const double gain = nodes_[c].bonus - bonus(state);
  // A completed phrase that nothing extends is settled: back to the root, the bonus kept.
  state = nodes_[c].leaf ? kRoot : c;
  return gain;
}

double BiasTrie::step(int& state, int label, bool restart, int boundary) const {
  if (state == kDead) {
    if (label == boundary) state = kRoot;
    return 0.0;
  }
  if (child(state, label) >= 0) return enter(state, label);
  const double back = state > 0 ? banked(state) - nodes_[state].bonus : 0.0;
  if (restart) {
    state = kRoot;
    return back + enter(state, label);
  }
  state = label == boundary ? kRoot : kDead;
  return back;
}

double BiasTrie::finish(int state, int boundary) const {
  if (state <= 0) return 0.0;
  const int c = boundary >= 0 ? child(state, boundary) : -1;
  if (c >= 0 && nodes_[c].end) return nodes_[c].bonus - nodes_[state].bonus;
  return banked(state) - nodes_[state].bonus;
}

}  // namespace w2v::decode
