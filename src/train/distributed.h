// Data-parallel training over c10d's Gloo process group. Each worker is a process with
// RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT (LOCAL_RANK optional) in its environment, as
// torch.distributed uses; rank 0 hosts the rendezvous store. Workers sum gradients and
// statistics after every accumulation cycle, which gives the same update as one process
// accumulating all batches. Gloo runs on CPU tensors, so the code does not depend on a device.
// Failures are bounded and named: a rank that never arrives, an unreachable master or a peer
// that dies mid-training ends every other rank with one w2v::Error naming the rank and address
// within distributed_training.rendezvous_timeout / heartbeat_timeout seconds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"

namespace w2v::train {

struct Peer {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  int rendezvous_timeout_s = 300, collective_timeout_s = 1800;
};

class Distributed {
 public:
  // nullptr when RANK is not set or WORLD_SIZE is 1. WORLD_SIZE must equal
  // distributed_world_size; errors name the bad variable or key.
  static std::unique_ptr<Distributed> from_env(const config::Config& cfg);
  explicit Distributed(const Peer& peer);
  ~Distributed();

  int rank() const { return peer_.rank; }
  int world_size() const { return peer_.world_size; }
  // In-place sum over all workers (one call for the whole list).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  // In place: every worker gets rank 0's values (same shapes on every rank).
  void broadcast_from_rank0(std::vector<torch::Tensor>& tensors);

 private:
  struct Group;
  // Runs one collective on the concatenation of `tensors` (as double) and copies it back.
  void flat_collective(std::vector<torch::Tensor>& tensors, bool broadcast);
  std::string describe_failure(const std::string& op, const std::string& what) const;
  Peer peer_;
  std::vector<std::string> addresses_;  // by rank: the address each rank's Gloo device uses
  std::unique_ptr<Group> group_;
};

// The first line of an exception's message, without c10's stack trace.
std::string short_message(const std::exception& e);

}  // namespace w2v::train
