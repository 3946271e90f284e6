// Runs a tools/oracle/train_*.py script on a JSON request and returns its JSON answer;
// tensors travel as {"shape", "data"} with non-finite values as strings (train_io.py).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "util/fs.h"

namespace w2v::test {

inline nlohmann::json encode(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kDouble).contiguous();
  nlohmann::json data = nlohmann::json::array();
  const double* p = c.data_ptr<double>();
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (std::isfinite(p[i])) data.push_back(p[i]);
    else data.push_back(std::isnan(p[i]) ? "nan" : (p[i] > 0 ? "inf" : "-inf"));
  }
  return {{"shape", c.sizes().vec()}, {"data", data}};
}

inline torch::Tensor decode(const nlohmann::json& j) {
  std::vector<double> v;
  for (const auto& e : j["data"]) v.push_back(e.is_string() ? std::stod(e.get<std::string>()) : e.get<double>());
  return torch::tensor(v, torch::kDouble).reshape(j["shape"].get<std::vector<int64_t>>());
}

inline nlohmann::json run_oracle(const std::string& script, const nlohmann::json& request) {
  const std::string dir = std::string(W2V_SOURCE_DIR) + "/tools/oracle/";
  const std::string in = ::testing::TempDir() + "oracle_in_" + std::to_string(getpid()) + ".json";
  w2v::write_file_atomic(in, request.dump());
  const std::string cmd = "cd " + dir + " && /usr/bin/python3 " + script + " " + in;
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  std::remove(in.c_str());
  if (rc != 0) throw std::runtime_error("oracle failed (" + std::to_string(rc) + "): " + cmd);
  return nlohmann::json::parse(out);
}

// max |a - b| / max(1, |b|) over all elements; infinities must match exactly.
inline double max_rel_error(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.detach().to(torch::kDouble), y = b.detach().to(torch::kDouble);
  auto finite = torch::isfinite(y);
  if (!torch::equal(finite, torch::isfinite(x))) return INFINITY;
  if (!torch::equal(x.masked_select(~finite), y.masked_select(~finite))) return INFINITY;
  auto xf = x.masked_select(finite), yf = y.masked_select(finite);
  if (xf.numel() == 0) return 0;
  return ((xf - yf).abs() / yf.abs().clamp_min(1.0)).max().item<double>();
}

}  // namespace w2v::test
