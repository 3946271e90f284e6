// The per-step numbers a criterion reports (fairseq's logging_output): sums over the batch,
// added across accumulation steps and workers, then reduced to the logged values.
#pragma once

#include <map>
#include <string>

namespace w2v::train {

using LoggingOutput = std::map<std::string, double>;

// a += b key by key.
void accumulate(LoggingOutput& a, const LoggingOutput& b);

// fairseq's loss scale in logs: nats summed over `n` units -> bits per unit (0 when n is 0).
double log2_scale(double v, double n);

}  // namespace w2v::train
