// The tiny wav2vec2 every model test uses (and bench_random_ctc's "tiny"), defined once in
// tests/common/tiny_model.overrides, one `model.key=value` override per line (tools/kill9_train.sh
// reads the same file): a feature encoder 32 wide with fairseq's 320-sample frame stride and
// 400-sample receptive field, 2 transformer layers of 32, pre-training heads small enough to
// train in seconds. The trainer tests add the overrides to a config; the inference tests build
// a model from the config they describe.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/fairseq_config.h"
#include "config/config.h"
#include "train/config_value.h"
#include "util/fs.h"

namespace w2v::test {

inline const std::string kTinyModelFile = std::string(W2V_SOURCE_DIR) + "/tests/common/tiny_model.overrides";

// The file's overrides, one per non-empty line.
inline std::vector<std::string> tiny_model_overrides() {
  std::vector<std::string> lines;
  std::istringstream in(read_file(kTinyModelFile));
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  return lines;
}

// The model the overrides describe, read as the trainer reads a config's model section.
inline model::Wav2Vec2Config tiny_model_config() {
  const config::Config cfg = config::Config::parse("model:\n  _name: wav2vec2\n", kTinyModelFile, tiny_model_overrides());
  return ckpt::read_wav2vec2_config(train::config_section(cfg, "model"), kTinyModelFile);
}

}  // namespace w2v::test
