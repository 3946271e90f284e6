#include "train/distributed.h"

#include <arpa/inet.h>
#include <glog/logging.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <thread>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "util/error.h"

namespace w2v::train {

struct Distributed::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

namespace {

int env_int(const char* name, int fallback, bool required) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    if (required) throw Error(std::string("environment variable ") + name + " is not set (needed with RANK)");
    return fallback;
  }
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (*end || errno || x < 0 || x > 65535)
    throw Error(std::string("environment variable ") + name + "='" + v + "' is not an integer in 0..65535");
  return static_cast<int>(x);
}

std::string numeric_host(const sockaddr* a) {
  char buf[INET6_ADDRSTRLEN] = "";
  const void* src = a->sa_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a)->sin_addr)
                                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr);
  inet_ntop(a->sa_family, src, buf, sizeof buf);
  return buf;
}

// This machine's address on the route to the master: a connected UDP socket sends nothing but
// makes the kernel pick the source address. Creating the Gloo device for the master's own
// address (what this file once did) fails on every machine but the master's.
std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_DGRAM;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0)
    throw Error("MASTER_ADDR '" + host + "' cannot be resolved: " + gai_strerror(rc));
  std::string found, why = "no address";
  for (addrinfo* ai = res; ai && found.empty(); ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
      found = numeric_host(reinterpret_cast<sockaddr*>(&local));
    else
      why = std::strerror(errno);
    if (fd >= 0) close(fd);
  }
  freeaddrinfo(res);
  if (found.empty()) throw Error("no route from this machine to MASTER_ADDR " + host + ": " + why);
  return found;
}

// The first address of a network interface (for naming GLOO_SOCKET_IFNAME's in messages).
std::string interface_address(const std::string& ifname) {
  ifaddrs* list = nullptr;
  std::string out;
  if (getifaddrs(&list) != 0) return ifname;
  for (ifaddrs* i = list; i && out.empty(); i = i->ifa_next)
    if (i->ifa_addr && ifname == i->ifa_name && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
      out = numeric_host(i->ifa_addr);
  freeifaddrs(list);
  if (out.empty()) throw Error("GLOO_SOCKET_IFNAME: this machine has no network interface '" + ifname + "' with an address");
  return out;
}

// c10d logs its own copy of a rendezvous failure through glog ("Logging before
// InitGoogleLogging..." and an E-line) around the one line this file throws: quiet meanwhile.
struct QuietGlog {
  int saved = FLAGS_minloglevel;
  QuietGlog() { FLAGS_minloglevel = google::GLOG_FATAL; }
  ~QuietGlog() { FLAGS_minloglevel = saved; }
};

std::string where(const Peer& p) {
  return "rank " + std::to_string(p.rank) + " of " + std::to_string(p.world_size) + ", rendezvous " +
         p.master_addr + ":" + std::to_string(p.master_port);
}

}  // namespace

std::string short_message(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string m = c10 ? c10->what_without_backtrace() : e.what();
  m = m.substr(0, m.find('\n'));
  // Gloo prefixes "[/path/to/pair.cc:598] ": a source location says nothing to a user.
  if (m.size() > 1 && m[0] == '[' && m.find(']') != std::string::npos && m.substr(0, m.find(']')).find('/') != std::string::npos)
    m = m.substr(m.find(']') + 1);
  while (!m.empty() && m[0] == ' ') m.erase(0, 1);
  return m;
}

std::unique_ptr<Distributed> Distributed::from_env(const config::Config& cfg) {
  if (!std::getenv("RANK")) return nullptr;
  Peer p;
  p.rank = env_int("RANK", 0, true);
  p.world_size = env_int("WORLD_SIZE", 0, true);
  p.local_rank = env_int("LOCAL_RANK", 0, false);
  const int64_t expected = cfg.integer("distributed_training.distributed_world_size");
  if (p.world_size != expected)
    throw Error("WORLD_SIZE=" + std::to_string(p.world_size) + " but distributed_training.distributed_world_size=" +
                std::to_string(expected) + " (set both to the total number of workers)");
  if (p.rank >= p.world_size) throw Error("RANK=" + std::to_string(p.rank) + " outside [0, WORLD_SIZE)");
  if (p.world_size == 1) return nullptr;
  const char* addr = std::getenv("MASTER_ADDR");
  p.master_addr = addr && *addr ? addr : "127.0.0.1";
  p.master_port = env_int("MASTER_PORT", 0, true);
  if (p.master_port == 0) throw Error("environment variable MASTER_PORT=0: the rendezvous needs a port");
  p.rendezvous_timeout_s = static_cast<int>(cfg.integer("distributed_training.rendezvous_timeout"));
  const int64_t heartbeat = cfg.integer("distributed_training.heartbeat_timeout");
  if (heartbeat > 0) p.collective_timeout_s = static_cast<int>(heartbeat);
  return std::make_unique<Distributed>(p);
}

Distributed::Distributed(const Peer& peer) : peer_(peer), group_(std::make_unique<Group>()) {
  using std::chrono::milliseconds;
  const milliseconds rendezvous(1000LL * peer.rendezvous_timeout_s);
  auto options = c10d::ProcessGroupGloo::Options::create(milliseconds(1000LL * peer.collective_timeout_s));
  std::string local;
  try {
    // As PyTorch: GLOO_SOCKET_IFNAME (comma-separated) names this machine's interfaces.
    if (const char* ifs = std::getenv("GLOO_SOCKET_IFNAME"); ifs && *ifs) {
      std::stringstream ss(ifs);
      for (std::string name; std::getline(ss, name, ',');) {
        if (local.empty()) local = interface_address(name);
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      }
    } else {
      local = local_address_towards(peer.master_addr, peer.master_port);
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(local));
    }
  } catch (const Error& e) {
    throw Error(where(peer) + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(where(peer) + ": cannot open a Gloo device on " + (local.empty() ? "GLOO_SOCKET_IFNAME" : local) +
                ": " + short_message(e));
  }
  QuietGlog quiet;
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(peer.master_port);
    o.isServer = peer.rank == 0;
    o.numWorkers = peer.world_size;
    o.waitWorkers = false;  // arrivals are counted below, to name the ranks that are missing
    o.timeout = rendezvous;
    group_->store = c10::make_intrusive<c10d::TCPStore>(peer.master_addr, o);
  } catch (const std::exception& e) {
    throw Error(where(peer) + ": " +
                (peer.rank == 0 ? "cannot host the rendezvous (is the port in use, or the address not this machine's?): "
                                : "master (rank 0) not reachable within " + std::to_string(peer.rendezvous_timeout_s) +
                                      " s (distributed_training.rendezvous_timeout): ") +
                short_message(e));
  }
  auto& store = *group_->store;
  auto key = [](int r) { return "w2v/rank/" + std::to_string(r); };
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  try {
    const std::string me = local + " " + host + " " + std::to_string(getpid());
    store.set(key(peer.rank), std::vector<uint8_t>(me.begin(), me.end()));
    if (peer.rank == 0) {
      const auto deadline = std::chrono::steady_clock::now() + rendezvous;
      std::vector<int> missing;
      do {
        missing.clear();
        for (int r = 1; r < peer.world_size; ++r)
          if (!store.check({key(r)})) missing.push_back(r);
        if (!missing.empty()) std::this_thread::sleep_for(milliseconds(100));
      } while (!missing.empty() && std::chrono::steady_clock::now() < deadline);
      if (!missing.empty()) {
        std::string list;
        for (size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + std::to_string(missing[i]);
        if (missing.size() > 8) list += ", ...";
        throw Error(where(peer) + ": rank" + (missing.size() > 1 ? "s " : " ") + list + " never arrived within " +
                    std::to_string(peer.rendezvous_timeout_s) + " s (distributed_training.rendezvous_timeout)");
      }
      const std::string go = "1";
      store.set("w2v/all_arrived", std::vector<uint8_t>(go.begin(), go.end()));
    } else {
      store.wait({"w2v/all_arrived"}, rendezvous);
    }
    for (int r = 0; r < peer.world_size; ++r) {
      const auto v = store.get(key(r));
      const std::string s(v.begin(), v.end());
      addresses_.push_back(s.substr(0, s.find(' ')));
    }
    group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("w2v/pg", group_->store),
                                                             peer.rank, peer.world_size, options);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(where(peer) + ": the rendezvous did not complete within " + std::to_string(peer.rendezvous_timeout_s) +
                " s (distributed_training.rendezvous_timeout; a rank is missing or rank 0 stopped): " + short_message(e));
  }
}

Distributed::~Distributed() = default;

std::string Distributed::describe_failure(const std::string& op, const std::string& what) const {
  std::vector<int> named;
  for (int r = 0; r < peer_.world_size; ++r)
    if (r != peer_.rank && !addresses_[r].empty() && what.find(addresses_[r]) != std::string::npos) named.push_back(r);
  std::string peers;
  if (named.empty())
    for (int r = 0; r < peer_.world_size; ++r)
      if (r != peer_.rank) named.push_back(r);
  for (size_t i = 0; i < named.size() && i < 8; ++i)
    peers += (i ? ", " : "") + std::to_string(named[i]) + " at " + addresses_[named[i]];
  const bool timeout = what.find("imed out") != std::string::npos || what.find("imeout") != std::string::npos;
  return where(peer_) + ": the " + op + " with rank" + (named.size() > 1 ? "s " : " ") + peers +
         (timeout ? " got no answer within " + std::to_string(peer_.collective_timeout_s) +
                        " s (distributed_training.heartbeat_timeout)"
                  : " failed (the peer died or its network failed)") +
         ": " + what;
}

void Distributed::all_reduce_sum(std::vector<torch::Tensor>& tensors) { flat_collective(tensors, false); }

void Distributed::broadcast_from_rank0(std::vector<torch::Tensor>& tensors) { flat_collective(tensors, true); }

void Distributed::flat_collective(std::vector<torch::Tensor>& tensors, bool broadcast) {
  // One flat buffer: a single collective per update instead of one per tensor.
  std::vector<torch::Tensor> flat{torch::cat([&] {
    std::vector<torch::Tensor> parts;
    for (auto& t : tensors) parts.push_back(t.reshape({-1}).to(torch::kDouble));
    return parts;
  }())};
  try {
    (broadcast ? group_->pg->broadcast(flat) : group_->pg->allreduce(flat))->wait();
  } catch (const std::exception& e) {
    const std::string message = describe_failure(broadcast ? "broadcast" : "all-reduce", short_message(e));
    // A process group with a broken peer can block in its destructor; the process is about
    // to end with this error, so it is left to the operating system.
    (void)group_.release();
    throw Error(message);
  }
  int64_t offset = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(flat[0].slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace w2v::train
