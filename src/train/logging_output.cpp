#include "train/logging_output.h"

namespace w2v::train {

void accumulate(LoggingOutput& a, const LoggingOutput& b) {
  for (const auto& [k, v] : b) a[k] += v;
}

}  // namespace w2v::train
