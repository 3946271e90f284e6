#include "align/ctc_viterbi.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "util/error.h"

namespace w2v::align {

namespace {

constexpr double kNone = -std::numeric_limits<double>::infinity();

struct Trellis {
  const decode::Emissions& e;
  const std::vector<double>& lse;
  const std::vector<int>& labels;
  int blank;
  int frames, states;    // T, S = 2L + 1
  std::vector<int> need;  // frames a path needs after a frame spent in state s

  int label(int s) const { return s % 2 ? labels[s / 2] : blank; }
  double log_posterior(int t, int s) const { return e.at(t, label(s)) - lse[t]; }
  // Label states may be entered from two states back, over a blank, unless the label repeats.
  bool can_skip(int s) const { return s % 2 == 1 && s >= 3 && labels[s / 2] != labels[s / 2 - 1]; }
  bool feasible(int t, int s) const { return need[s] <= frames - 1 - t; }
};

// Best path over frames [t0, t1) that is in state `start` at t0 (-1: the first window, which
// may begin in state 0 or 1) and in any state at t1 - 1 from which the rest can still be
// spelled (the final states only, when t1 is the last frame). Returns its states.
std::vector<int> window(const Trellis& p, int t0, int t1, int start) {
  const int lo = start < 0 ? 0 : start;
  const int width = std::min(p.states - lo, 2 * (t1 - t0) + 2);
  std::vector<double> prev(width, kNone), cur(width, kNone);
  std::vector<uint8_t> back(static_cast<size_t>(t1 - t0) * width, 0);
  for (int j = 0; j < (start < 0 ? std::min(2, width) : 1); ++j)
    if (p.feasible(t0, lo + j)) prev[j] = p.log_posterior(t0, lo + j);
  for (int t = t0 + 1; t < t1; ++t) {
    const int top = std::min(width - 1, 2 * (t - t0) + 1);
    uint8_t* bp = back.data() + static_cast<size_t>(t - t0) * width;
    for (int j = 0; j <= top; ++j) {
      const int s = lo + j;
      if (!p.feasible(t, s)) {
        cur[j] = kNone;
        continue;
      }
      double best = prev[j];
      uint8_t from = 0;
      if (j >= 1 && prev[j - 1] > best) best = prev[j - 1], from = 1;
      if (j >= 2 && p.can_skip(s) && prev[j - 2] > best) best = prev[j - 2], from = 2;
      cur[j] = best == kNone ? kNone : best + p.log_posterior(t, s);
      bp[j] = from;
    }
    std::swap(prev, cur);
  }
  int end = -1;
  for (int j = width - 1; j >= 0; --j)
    if (prev[j] != kNone && (end < 0 || prev[j] > prev[end])) end = j;
  if (end < 0) throw Error(fmt::format("alignment: no path through frames {}..{} (internal)", t0, t1));
  std::vector<int> out(t1 - t0);
  for (int t = t1 - 1, j = end; t >= t0; --t) {
    out[t - t0] = lo + j;
    j -= back[static_cast<size_t>(t - t0) * width + j];
  }
  return out;
}

}  // namespace

int min_frames(const std::vector<int>& labels) {
  int n = static_cast<int>(labels.size());
  for (size_t i = 1; i < labels.size(); ++i) n += labels[i] == labels[i - 1];
  return n;
}

CtcPath ctc_viterbi(const decode::Emissions& emissions, const std::vector<int>& labels, int blank,
                    const ViterbiOptions& options) {
  const int L = static_cast<int>(labels.size());
  if (L == 0) throw Error("alignment: no labels to align");
  const int needed = min_frames(labels);
  if (needed > emissions.frames)
    throw Error(fmt::format("the transcript needs at least {} frames ({} letters and separators, {} blanks between "
                            "repeated letters) but the audio has {}",
                            needed, L, needed - L, emissions.frames));
  const std::vector<double> lse = decode::log_partition(emissions);
  Trellis p{emissions, lse, labels, blank, emissions.frames, 2 * L + 1, {}};
  // Repeats among label pairs (i, i+1) with i >= k, counted from the end.
  std::vector<int> repeats(L + 1, 0);
  for (int k = L - 2; k >= 0; --k) repeats[k] = repeats[k + 1] + (labels[k] == labels[k + 1]);
  p.need.resize(p.states);
  for (int s = 0; s < p.states; ++s) {
    const int k = s / 2;  // s even: the blank before label k; s odd: label k
    p.need[s] = s % 2 ? (L - 1 - k) + repeats[k] : (L - k) + repeats[std::min(k, L)];
  }
  const int W = std::max(2, options.window_frames);
  CtcPath path;
  path.states.resize(emissions.frames);
  for (int t0 = 0, start = -1;;) {
    const int t1 = std::min(emissions.frames, t0 + W);
    const std::vector<int> states = window(p, t0, t1, start);
    // The window's end was free: keep its first half, whose path the unseen frames hardly move.
    const int keep = t1 == emissions.frames ? t1 - t0 : (t1 - t0) / 2;
    std::copy(states.begin(), states.begin() + keep, path.states.begin() + t0);
    if (t1 == emissions.frames) break;
    start = states[keep];
    t0 += keep;
  }
  path.log_posteriors.resize(emissions.frames);
  for (int t = 0; t < emissions.frames; ++t) {
    path.log_posteriors[t] = p.log_posterior(t, path.states[t]);
    path.score += path.log_posteriors[t];
  }
  return path;
}

}  // namespace w2v::align
