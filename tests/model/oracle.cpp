#include "oracle.h"

#include <nlohmann/json.hpp>
#include <torch/serialize.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "util/fs.h"

namespace w2v::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/w2v_model_test_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

IDict new_dict() { return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()); }

void save_dict(const std::string& path, const IDict& dict) {
  auto bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

c10::impl::GenericDict load_dict(const std::string& path) {
  std::string s = read_file(path);
  return torch::pickle_load(std::vector<char>(s.begin(), s.end())).toGenericDict();
}

at::Tensor get_tensor(const c10::impl::GenericDict& d, const std::string& key) {
  auto it = d.find(key);
  if (it == d.end()) throw std::runtime_error("oracle output lacks key " + key);
  return it->value().toTensor();
}

void run_oracle(const std::string& script, const std::string& in, const std::string& out) {
  run_oracle(script, in + " " + out);
}

void run_oracle(const std::string& script, const std::string& args) {
  std::string cmd = "/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/tools/oracle/" + script + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string output;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) output.append(buf.data(), n);
  int rc = pclose(p);
  if (rc != 0) throw std::runtime_error("oracle failed (" + cmd + "):\n" + output);
}

std::string config_json(const model::Wav2Vec2Config& c) {
  nlohmann::json j = {
      {"extractor_mode", c.extractor_mode},
      {"conv_feature_layers", c.conv_feature_layers},
      {"conv_bias", c.conv_bias},
      {"encoder_layers", c.encoder_layers},
      {"encoder_embed_dim", c.encoder_embed_dim},
      {"encoder_ffn_embed_dim", c.encoder_ffn_embed_dim},
      {"encoder_attention_heads", c.encoder_attention_heads},
      {"layer_norm_first", c.layer_norm_first},
      {"conv_pos", c.conv_pos},
      {"conv_pos_groups", c.conv_pos_groups},
      {"dropout", c.dropout},
      {"attention_dropout", c.attention_dropout},
      {"activation_dropout", c.activation_dropout},
      {"encoder_layerdrop", c.encoder_layerdrop},
      {"dropout_input", c.dropout_input},
      {"quantize_targets", c.quantize_targets},
      {"latent_groups", c.latent_groups},
      {"logit_temp", c.logit_temp},
  };
  return j.dump();
}

model::Wav2Vec2Config small_config(const std::string& family) {
  auto c = model::Wav2Vec2Config::preset(family);
  c.conv_feature_layers = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2";
  c.encoder_layers = 3;
  c.encoder_embed_dim = 48;
  c.encoder_ffn_embed_dim = 96;
  c.encoder_attention_heads = 4;
  c.conv_pos = 16;
  c.conv_pos_groups = 4;
  c.final_dim = 24;
  c.latent_vars = 10;
  c.dropout = c.attention_dropout = c.activation_dropout = c.encoder_layerdrop = 0.0;
  c.dropout_input = c.dropout_features = 0.0;
  return c;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace w2v::test
