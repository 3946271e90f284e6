// CTC Viterbi forced alignment: the best frame-by-frame path through the labels y_1..y_L, as
// CTC defines paths (Graves 2006): the extended sequence blank, y_1, blank, ..., y_L, blank
// (state 2k+1 is label k), each frame stays in its state or moves to the next one, and skips
// a blank only between two different labels, so a repeated letter needs a blank between its
// copies. Scores are log posteriors (log_softmax of each emission row).
#pragma once

#include <vector>

#include "decode/emissions.h"

namespace w2v::align {

struct CtcPath {
  std::vector<int> states;  // per frame, in [0, 2L]
  std::vector<double> log_posteriors;  // per frame: log posterior of the path's label
  double score = 0;                     // their sum
};

// Frames any path needs: L plus one blank per pair of equal neighbours.
int min_frames(const std::vector<int>& labels);

// Bounded memory for long audio: frames are aligned in windows of window_frames. A window's
// best path is found with its end left free, its first half is kept, and the next window
// starts from the state that path reached there (the anchor); the last window ends in a final
// state. Audio of at most window_frames frames is aligned exactly in one window. Memory is
// O(window_frames^2) bytes of backpointers plus the path, whatever the audio's length.
struct ViterbiOptions {
  int window_frames = 1500;  // 30 s of 20 ms frames
};

// Throws w2v::Error when the labels cannot fit (min_frames > frames); ties go to staying in a
// state, then to the nearer predecessor, and at the end to the final blank.
CtcPath ctc_viterbi(const decode::Emissions& emissions, const std::vector<int>& labels, int blank,
                    const ViterbiOptions& options = {});

}  // namespace w2v::align
