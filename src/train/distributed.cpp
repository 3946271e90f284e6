#include "train/distributed.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "util/error.h"

namespace w2v::train {

struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw Error(std::string("environment variable ") + name + " is not set (needed with RANK)");
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    throw Error(std::string("environment variable ") + name + "='" + v + "' is not an integer");
  }
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw Error("cannot find a free TCP port for the distributed rendezvous");
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

}  // namespace

std::unique_ptr<Distributed> Distributed::from_env(int expected_world_size) {
  if (!std::getenv("RANK")) return nullptr;
  const int rank = env_int("RANK"), world = env_int("WORLD_SIZE");
  if (world != expected_world_size)
    throw Error("WORLD_SIZE=" + std::to_string(world) + " but distributed_training.distributed_world_size=" +
                std::to_string(expected_world_size));
  if (rank < 0 || rank >= world) throw Error("RANK=" + std::to_string(rank) + " outside [0, WORLD_SIZE)");
  const char* addr = std::getenv("MASTER_ADDR");
  return std::unique_ptr<Distributed>(
      new Distributed(rank, world, addr && *addr ? addr : "127.0.0.1", env_int("MASTER_PORT")));
}

Distributed::Distributed(int rank, int world_size, const std::string& addr, int port)
    : rank_(rank), world_size_(world_size), group_(std::make_unique<Group>()) {
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port);
    o.isServer = rank == 0;
    o.numWorkers = world_size;
    group_->store = c10::make_intrusive<c10d::TCPStore>(addr, o);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
    group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, rank, world_size, options);
  } catch (const std::exception& e) {
    throw Error("distributed rendezvous at " + addr + ":" + std::to_string(port) + " (rank " +
                std::to_string(rank) + ") failed: " + e.what());
  }
}

Distributed::~Distributed() = default;

void Distributed::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  // One flat buffer: a single collective per update instead of one per tensor.
  std::vector<torch::Tensor> flat{torch::cat([&] {
    std::vector<torch::Tensor> parts;
    for (auto& t : tensors) parts.push_back(t.reshape({-1}).to(torch::kDouble));
    return parts;
  }())};
  group_->pg->allreduce(flat)->wait();
  int64_t offset = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(flat[0].slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

int spawn_workers(const std::vector<std::string>& argv, int world_size, int port) {
  if (port <= 0) port = free_port();
  std::vector<pid_t> pids;
  for (int r = 0; r < world_size; ++r) {
    const pid_t pid = fork();
    if (pid < 0) throw Error("cannot start worker process " + std::to_string(r));
    if (pid == 0) {
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(world_size).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv("/proc/self/exe", args.data());
      _exit(127);
    }
    pids.push_back(pid);
  }
  int result = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result == 0) result = code;
  }
  return result;
}

}  // namespace w2v::train
