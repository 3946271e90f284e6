// Test helpers for the checkpoint tests: a scratch directory per test binary and live runs of
// the tools/oracle/ckpt_*.py scripts with Debian's /usr/bin/python3 (a failing oracle fails
// the test; nothing is skipped).
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace w2v::ckpt::testing {

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("w2v_ckpt_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

// Runs `/usr/bin/python3 tools/oracle/<script> <args>`; returns its stdout+stderr and throws
// (with that output) when it exits non-zero.
inline std::string run_oracle(const std::string& script, const std::string& args) {
  const std::string cmd =
      std::string("/usr/bin/python3 ") + W2V_SOURCE_DIR + "/tools/oracle/" + script + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(pipe);
  if (rc != 0) throw std::runtime_error("oracle failed: " + cmd + "\n" + out);
  return out;
}

// The directory written by `tools/oracle/<script> make DIR`, created once and shared by the
// test processes of one ctest run (same parent process) and one version of the script: the
// oracle's torch import dominates test time otherwise. Written to a temporary name and renamed,
// so parallel tests never see a half-made directory.
inline std::string oracle_fixtures(const std::string& script) {
  static std::map<std::string, std::string> made;
  auto it = made.find(script);
  if (it != made.end()) return it->second;
  std::ifstream in(std::string(W2V_SOURCE_DIR) + "/tools/oracle/" + script, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("w2v_ckpt_" + script + "_" + std::to_string(std::hash<std::string>{}(text.str())) + "_" +
                            std::to_string(::getppid())))
                              .string();
  if (!std::filesystem::exists(dir)) {
    const std::string tmp = dir + ".tmp." + std::to_string(::getpid());
    run_oracle(script, "make " + tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, dir, ec);
    if (ec) std::filesystem::remove_all(tmp);  // another test process made it first
  }
  return made[script] = dir;
}

// Runs the w2v binary with `args`; returns {exit code, stdout+stderr}.
inline std::pair<int, std::string> run_w2v(const std::string& args) {
  const std::string cmd = std::string(W2V_BINARY) + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(pipe);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

}  // namespace w2v::ckpt::testing
