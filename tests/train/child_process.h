// Starting `w2v` (or any command) as a child process with its output in files, waiting for it
// with a bound, and signalling it: what the process-level training tests need.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "util/fs.h"

namespace w2v::test {

struct Child {
  pid_t pid = -1;
  std::string out, err;  // files with its stdout and stderr
};

// Runs argv[0] (searched on PATH) with stdout/stderr redirected into out_file/err_file.
inline Child start_child(const std::vector<std::string>& argv, const std::string& out_file, const std::string& err_file) {
  Child c{-1, out_file, err_file};
  c.pid = fork();
  if (c.pid == 0) {
    const int o = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return c;
}

// Exit status (128 + signal when killed), or -1 when it is still running after `seconds`
// (then it is killed and reaped, so that no test leaves a process behind).
inline int wait_child(const Child& c, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > end) {
      kill(c.pid, SIGKILL);
      waitpid(c.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Waits until `file` contains `text` (true) or `seconds` pass (false).
inline bool wait_for_text(const std::string& file, const std::string& text, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    try {
      if (w2v::read_file(file).find(text) != std::string::npos) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// True while any thread of `pid` runs. The group leader turns zombie as soon as its own thread
// exits, while a sibling thread may still be finishing a write and hold the process's files (a
// flock among them): so every thread in /proc/<pid>/task is looked at, not the leader alone.
inline bool alive(pid_t pid) {
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    try {
      const std::string stat = w2v::read_file(task.path().string() + "/stat");
      const size_t close = stat.rfind(')');
      if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' && stat[close + 2] != 'X')
        return true;
    } catch (const std::exception&) {
    }
  }
  return false;
}

// The pids whose parent is `parent` (from /proc/<pid>/stat).
inline std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    try {
      const std::string stat = w2v::read_file(e.path().string() + "/stat");
      const size_t close = stat.rfind(')');
      if (close == std::string::npos) continue;
      // After ") S ": the state, then the parent pid.
      const pid_t ppid = static_cast<pid_t>(std::stol(stat.substr(close + 4)));
      if (ppid == parent) out.push_back(static_cast<pid_t>(std::stol(name)));
    } catch (const std::exception&) {
    }
  }
  return out;
}

// A TCP port no one listens on now (the kernel's choice for an ephemeral bind).
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace w2v::test
