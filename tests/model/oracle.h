// Helpers shared by the model parity tests: a scratch directory, exchanging dicts of tensors
// with the Python oracle (torch::pickle_save <-> torch.load / torch.save <-> torch::pickle_load)
// and running a tools/oracle script live with Debian's /usr/bin/python3.
#pragma once

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>

#include <string>

#include "model/config.h"

namespace w2v::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

using IDict = c10::impl::GenericDict;
// An empty str -> Any dict (what torch.load yields as a plain Python dict).
IDict new_dict();

void save_dict(const std::string& path, const IDict& dict);
c10::impl::GenericDict load_dict(const std::string& path);
at::Tensor get_tensor(const c10::impl::GenericDict& d, const std::string& key);

// Runs `/usr/bin/python3 tools/oracle/<script> in out`; throws with the script's output on failure.
void run_oracle(const std::string& script, const std::string& in, const std::string& out);
// Same with any argument string.
void run_oracle(const std::string& script, const std::string& args);

// The config's fields as the JSON the oracle scripts read.
std::string config_json(const model::Wav2Vec2Config& cfg);

// A small model of the given family ("base" or "large_lv") for fast tests: 32-channel convs,
// D = 48, 4 heads, FFN 96, 3 layers, conv_pos 16 / 4 groups, all dropouts 0.
model::Wav2Vec2Config small_config(const std::string& family);

// max |a - b| (inf if shapes differ).
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

}  // namespace w2v::test
