// Data-parallel training over c10d's Gloo process group (CPU). Each worker is a process with
// RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT in its environment, as torch.distributed uses;
// rank 0 hosts the rendezvous store. Workers sum gradients and statistics after every
// accumulation cycle, which gives the same update as one process accumulating all batches.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace w2v::train {

class Distributed {
 public:
  // From the environment; nullptr when RANK is not set. Errors name the bad variable.
  static std::unique_ptr<Distributed> from_env(int expected_world_size);
  ~Distributed();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // In-place sum over all workers (one call for the whole list).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);

 private:
  struct Group;
  Distributed(int rank, int world_size, const std::string& addr, int port);
  int rank_, world_size_;
  std::unique_ptr<Group> group_;
};

// Runs `argv` (the current executable and its arguments) as `world_size` worker processes on
// this machine with the torch.distributed environment set (MASTER_PORT = port, or a free one
// when port <= 0); returns 0 if all succeed, else the first failing exit status.
int spawn_workers(const std::vector<std::string>& argv, int world_size, int port);

}  // namespace w2v::train
