#include "train/logging_output.h"

#include <cmath>

namespace w2v::train {

void accumulate(LoggingOutput& a, const LoggingOutput& b) {
  for (const auto& [k, v] : b) a[k] += v;
}

double log2_scale(double v, double n) { return n > 0 ? v / n / std::log(2.0) : 0.0; }

}  // namespace w2v::train
