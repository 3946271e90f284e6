// The search behind `w2v tune` (issue 19.2): which lm_weight, word_score and sil_weight give the
// fewest word errors on a held-out split, over ranges of values, by grid or coordinate search.
// Decoding and scoring are the caller's (an evaluate callback); this file only picks the points.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace w2v::decode {

// "START:STOP:STEP" (START, START+STEP, ... up to STOP, included when a step lands on it within
// rounding), "A,B,C" (in the order given) or one number. `option` names the flag in the
// w2v::Error for a non-number, a step <= 0, START > STOP, a repeated value or over 1000 values.
std::vector<double> parse_tuning_range(const std::string& text, const std::string& option);

struct TuningPoint {
  double lm_weight = 0, word_score = 0, sil_weight = 0;
};

struct TuningResult {
  TuningPoint point;
  size_t errors = 0, words = 0;  // word errors (S + D + I) and reference words over the split
  double wer() const { return words ? 100.0 * static_cast<double>(errors) / static_cast<double>(words) : 0.0; }
};

struct TuningRanges {
  std::vector<double> lm_weight, word_score, sil_weight;  // each non-empty
};

enum class TuningSearch {
  kGrid,        // every combination: lm_weight outermost, then word_score, then sil_weight
  kCoordinate,  // from `start`, the best value of one parameter at a time (the others fixed),
                // in turn, until a full round moves nothing; far fewer decodes, a local optimum
};

// The ranking: fewer errors first; ties go to the smaller lm_weight, then the smaller
// word_score, then the smaller sil_weight (deterministic, and the LM trusted least).
bool ranks_before(const TuningResult& a, const TuningResult& b);

// Every point evaluated, in evaluation order, each once. evaluate(point) returns its result's
// errors and words. For kCoordinate, `start` is snapped to the nearest value of each range.
std::vector<TuningResult> tune(const TuningRanges& ranges, TuningSearch search, const TuningPoint& start,
                               const std::function<TuningResult(const TuningPoint&)>& evaluate);

// The first under ranks_before; throws w2v::Error when `results` is empty.
const TuningResult& best_result(const std::vector<TuningResult>& results);

}  // namespace w2v::decode
