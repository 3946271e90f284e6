#include "train/launch.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace w2v::train {
namespace {

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

// "tcp://HOST:PORT" (PORT optional: then distributed_port); IPv6 hosts in brackets.
void parse_init_method(const std::string& method, int fallback_port, LocalLaunch& out) {
  const std::string key = "distributed_training.distributed_init_method";
  if (method.rfind("env://", 0) == 0)
    throw key_error(key, "env:// takes RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the environment, "
                         "and RANK is not set (start each worker with them, as torchrun does)");
  if (method.rfind("tcp://", 0) != 0) throw key_error(key, "expected tcp://HOST:PORT, got '" + method + "'");
  std::string rest = method.substr(6), port;
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t close_bracket = rest.rfind(']'), colon = rest.rfind(':');
  if (colon != std::string::npos && (close_bracket == std::string::npos || colon > close_bracket)) {
    port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) throw key_error(key, "has no host in '" + method + "'");
  out.master_addr = rest;
  if (port.empty()) {
    if (fallback_port <= 0)
      throw key_error(key, "has no port in '" + method + "' and distributed_training.distributed_port is not set");
    out.master_port = fallback_port;
    return;
  }
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
    throw key_error(key, "port '" + port + "' is not in 1..65535");
  out.master_port = std::stoi(port);
}

// The workers of spawn_workers, for the signal handler (async-signal-safe: a fixed array).
constexpr int kMaxWorkers = 1024;
pid_t g_workers[kMaxWorkers];
volatile sig_atomic_t g_num_workers = 0;

void forward_signal(int sig) {
  for (int i = 0; i < g_num_workers; ++i)
    if (g_workers[i] > 0) kill(g_workers[i], sig);
}

}  // namespace

LocalLaunch plan_local_launch(const config::Config& cfg, int cores) {
  LocalLaunch l;
  l.world_size = static_cast<int>(cfg.integer("distributed_training.distributed_world_size"));
  if (std::getenv("RANK") || l.world_size <= 1) return l;  // a worker already, or alone
  const int port = static_cast<int>(cfg.integer("distributed_training.distributed_port"));
  if (cfg.is_set("distributed_training.distributed_init_method")) {
    parse_init_method(cfg.text("distributed_training.distributed_init_method"), port, l);
    l.nprocs = static_cast<int>(cfg.integer("distributed_training.nprocs_per_node"));
    l.start_rank = static_cast<int>(cfg.integer("distributed_training.distributed_rank"));
    if (l.start_rank + l.nprocs > l.world_size)
      throw key_error("distributed_training.distributed_rank",
                      std::to_string(l.start_rank) + " + nprocs_per_node " + std::to_string(l.nprocs) +
                          " exceeds distributed_world_size " + std::to_string(l.world_size) +
                          " (it is this node's first global rank: node_rank x nprocs_per_node)");
    return l;
  }
  if (l.world_size > cores) return l;  // one process accumulates world_size x update_freq batches
  l.nprocs = l.world_size;
  l.master_port = port > 0 ? port : free_port();
  return l;
}

int spawn_workers(const std::vector<std::string>& argv, const LocalLaunch& launch) {
  if (launch.nprocs < 1 || launch.nprocs > kMaxWorkers)
    throw Error("cannot start " + std::to_string(launch.nprocs) + " worker processes (1.." +
                std::to_string(kMaxWorkers) + ")");
  const int port = launch.master_port > 0 ? launch.master_port : free_port();
  // Blocked until every worker is registered, so a signal cannot slip between fork and record.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &old);
  struct sigaction sa{};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
  const pid_t parent = getpid();
  for (int i = 0; i < launch.nprocs; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      forward_signal(SIGKILL);
      throw Error("cannot start worker process " + std::to_string(i) + ": " + std::strerror(errno));
    }
    if (pid == 0) {
      // Die with the parent, even by kill -9; if it died before prctl took effect, go now.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      signal(SIGHUP, SIG_DFL);
      sigprocmask(SIG_SETMASK, &old, nullptr);
      setenv("RANK", std::to_string(launch.start_rank + i).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(i).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(launch.world_size).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(launch.nprocs).c_str(), 1);
      setenv("MASTER_ADDR", launch.master_addr.c_str(), 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv("/proc/self/exe", args.data());
      _exit(127);
    }
    g_workers[i] = pid;
    g_num_workers = i + 1;
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int result = 0, running = launch.nprocs;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < g_num_workers; ++i)
      if (g_workers[i] == pid) {
        g_workers[i] = 0;
        --running;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        // A failed worker leaves its siblings waiting on collectives that cannot complete.
        if (code != 0 && result == 0) {
          result = code;
          forward_signal(SIGTERM);
        }
      }
  }
  g_num_workers = 0;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) signal(sig, SIG_DFL);
  return result;
}

}  // namespace w2v::train
