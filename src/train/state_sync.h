// Rank 0's training state on every rank at start, as fairseq loads a checkpoint on rank 0 and
// broadcasts it: ranks on machines without rank 0's checkpoint_last.pt would otherwise start
// from scratch beside a resumed rank 0 and train a silently wrong model.
#pragma once

#include <vector>

#include "train/adam.h"
#include "train/distributed.h"

namespace w2v::train {

// Overwrites `model_tensors` (parameters and buffers), Adam's state (moments and steps, created where only rank 0 has them)
// and `counters` (update count, epoch, position, ...) with rank 0's.
void broadcast_training_state(Distributed& dist, const std::vector<torch::Tensor>& model_tensors, Adam& adam,
                              std::vector<double>& counters);

}  // namespace w2v::train
