// Which training processes `w2v train` starts on this machine, and starting them so that they
// live and die with it. Two launch styles reach the same workers (see docs/training.md):
//  - torchrun-style: RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT are set, and this
//    process is one worker (the launcher started the others);
//  - fairseq-style: distributed_training.distributed_init_method=tcp://HOST:PORT with
//    distributed_rank (this node's first global rank, node_rank x nprocs_per_node) spawns
//    nprocs_per_node local workers of global ranks distributed_rank + 0 .. nprocs_per_node - 1.
// Without either, distributed_world_size = N > 1 spawns N workers over loopback when the machine
// has N cores, else one process accumulates N x update_freq batches per update.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace w2v::train {

struct LocalLaunch {
  int world_size = 1;
  int start_rank = 0;      // global rank of the first local worker
  int nprocs = 0;          // local workers to spawn; 0: this process trains (alone or as a worker)
  std::string master_addr = "127.0.0.1";
  int master_port = 0;     // <= 0: a free loopback port (single machine only)
};

// Reads the launch settings once; errors name the key or environment variable.
LocalLaunch plan_local_launch(const config::Config& cfg, int cores);

// Runs `argv` (the current executable and its arguments) as launch.nprocs workers with the
// torchrun environment set. Each worker dies with this process (SIGKILL on its death) and gets
// the SIGTERM/SIGINT this process receives; when one fails the others are stopped. Returns 0
// if all succeed, else the first failing exit status.
int spawn_workers(const std::vector<std::string>& argv, const LocalLaunch& launch);

}  // namespace w2v::train
