// The tiny training setup the trainer tests share: a generated corpus of letter "words", a tiny
// wav2vec2 model and the overrides that pre-train it in a few seconds, and log helpers.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/tiny_model.h"
#include "config/config.h"
#include "train/trainer.h"
#include "util/fs.h"

namespace w2v::test {

namespace fs = std::filesystem;
using nlohmann::json;
using w2v::config::Config;

const std::string kRoot = W2V_SOURCE_DIR;
const std::string kPretrainConfig = kRoot + "/configs/pretraining/wav2vec2_base_librispeech.yaml";

inline void write_wav(const std::string& path, const std::vector<float>& x) {
  std::string d;
  auto u32 = [&](uint32_t v) { d.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { d.append(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t bytes = static_cast<uint32_t>(x.size() * 2);
  d += "RIFF";
  u32(36 + bytes);
  d += "WAVEfmt ";
  u32(16), u16(1), u16(1), u32(16000), u32(32000), u16(2), u16(16);
  d += "data";
  u32(bytes);
  for (float v : x) u16(static_cast<uint16_t>(static_cast<int16_t>(std::lround(v * 32767.0f))));
  w2v::write_file_atomic(path, d);
}

// A corpus of letter "words": each letter is a tone of its own pitch, 1000 samples long.
inline std::string make_corpus(const std::string& name, size_t n_train = 10) {
  const std::string dir = ::testing::TempDir() + "w2v_train_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> words{"AB", "BA", "CAB", "ABC", "CC", "BCA", "AAB", "CBA", "BB", "ACB"};
  auto write_split = [&](const std::string& split, size_t first, size_t count) {
    std::string tsv = dir + "\n", ltr;
    for (size_t i = 0; i < count; ++i) {
      const std::string& w = words[(first + i) % words.size()];
      std::vector<float> x;
      for (char c : w)
        for (int n = 0; n < 1000; ++n)
          x.push_back(0.5f * std::sin(2 * M_PI * (300.0 + 250.0 * (c - 'A')) * n / 16000.0) +
                      0.01f * std::sin(0.37 * (n + 13 * i)));
      x.resize(x.size() + 600, 0.001f);
      const std::string f = split + std::to_string(i) + ".wav";
      write_wav(dir + "/" + f, x);
      tsv += f + "\t" + std::to_string(x.size()) + "\n";
      for (char c : w) ltr += std::string(1, c) + " ";
      ltr += "|\n";
    }
    w2v::write_file_atomic(dir + "/" + split + ".tsv", tsv);
    w2v::write_file_atomic(dir + "/" + split + ".ltr", ltr);
  };
  write_split("train", 0, n_train);
  write_split("valid", 3, 4);
  w2v::write_file_atomic(dir + "/dict.ltr.txt", "| 30\nA 20\nB 20\nC 20\n");
  return dir;
}

// The tests' tiny wav2vec2 (common/tiny_model.h), one override per line.
inline const std::vector<std::string> kTinyModel = tiny_model_overrides();

inline std::vector<std::string> pretrain_overrides(const std::string& data, const std::string& save_dir,
                                            int max_update) {
  std::vector<std::string> o = kTinyModel;
  for (const std::string& s : std::vector<std::string>{
           "task.data=" + data, "checkpoint.save_dir=" + save_dir, "task.min_sample_size=1000",
        "dataset.max_tokens=16000", "dataset.required_batch_size_multiple=1", "dataset.num_workers=1",
        "distributed_training.distributed_world_size=1", "optimization.max_update=" + std::to_string(max_update),
        "lr_scheduler.warmup_updates=2", "lr_scheduler.total_num_update=6", "common.log_interval=1"})
    o.push_back(s);
  return o;
}

// Runs a training and returns its log lines (also kept beside the checkpoints for inspection).
inline std::vector<json> run(const Config& cfg, w2v::train::TrainerOptions options = {}) {
  std::ostringstream out;
  w2v::train::Trainer trainer(cfg, out, std::move(options));
  trainer.train();
  w2v::write_file_atomic(cfg.text("checkpoint.save_dir") + "/train_log.jsonl", out.str());
  std::vector<json> lines;
  std::istringstream in(out.str());
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  return lines;
}

inline std::vector<json> tagged(const std::vector<json>& lines, const std::string& tag) {
  std::vector<json> out;
  for (const auto& l : lines)
    if (l.value("tag", "") == tag) out.push_back(l);
  return out;
}

// JSON lines of a log (stdout of `w2v train`); other lines (none expected) are skipped.
inline std::vector<json> parse_log(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] == '{') lines.push_back(json::parse(l));
  return lines;
}

}  // namespace w2v::test
