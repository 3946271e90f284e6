// Shared by the CLI tests: run a shell command, capture what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace w2v::test {

// Runs cmd with stderr merged into stdout; returns its exit status (-1 if it did not exit
// normally) and fills out with everything it printed.
inline int run_command(const std::string& cmd, std::string& out) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  char buf[4096];
  out.clear();
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace w2v::test
