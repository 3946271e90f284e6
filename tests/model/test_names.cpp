// The model's parameter names and shapes are fairseq's state-dict keys (spec 9.2, 9.3); the
// expected key sets below are written from the spec's key list, not from our module tree.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "model/ctc.h"
#include "model/wav2vec2.h"

using namespace w2v::model;

namespace {

std::map<std::string, std::vector<int64_t>> spec_keys(const Wav2Vec2Config& c, bool pretrain, int64_t vocab) {
  const int64_t D = c.encoder_embed_dim, FFN = c.encoder_ffn_embed_dim, FD = c.effective_final_dim();
  std::map<std::string, std::vector<int64_t>> k;
  k["mask_emb"] = {D};
  auto conv = c.conv_layers();
  int64_t in = 1;
  for (size_t i = 0; i < conv.size(); ++i) {
    std::string p = "feature_extractor.conv_layers." + std::to_string(i);
    k[p + ".0.weight"] = {conv[i].dim, in, conv[i].kernel};
    if (c.conv_bias) k[p + ".0.bias"] = {conv[i].dim};
    if (c.extractor_mode == "layer_norm") {
      k[p + ".2.1.weight"] = k[p + ".2.1.bias"] = {conv[i].dim};
    } else if (i == 0) {
      k[p + ".2.weight"] = k[p + ".2.bias"] = {conv[i].dim};
    }
    in = conv[i].dim;
  }
  k["post_extract_proj.weight"] = {D, 512};
  k["post_extract_proj.bias"] = {D};
  k["layer_norm.weight"] = k["layer_norm.bias"] = {512};
  if (pretrain) {
    k["quantizer.vars"] = {1, 640, c.vq_dim() / 2};
    k["quantizer.weight_proj.weight"] = {640, 512};
    k["quantizer.weight_proj.bias"] = {640};
    k["project_q.weight"] = {FD, c.vq_dim()};
    k["project_q.bias"] = {FD};
    k["final_proj.weight"] = {FD, D};
    k["final_proj.bias"] = {FD};
  }
  k["encoder.pos_conv.0.weight_g"] = {1, 1, 128};
  k["encoder.pos_conv.0.weight_v"] = {D, D / 16, 128};
  k["encoder.pos_conv.0.bias"] = {D};
  for (int64_t j = 0; j < c.encoder_layers; ++j) {
    std::string p = "encoder.layers." + std::to_string(j) + ".";
    for (std::string proj : {"q", "k", "v", "out"}) {
      k[p + "self_attn." + proj + "_proj.weight"] = {D, D};
      k[p + "self_attn." + proj + "_proj.bias"] = {D};
    }
    k[p + "self_attn_layer_norm.weight"] = k[p + "self_attn_layer_norm.bias"] = {D};
    k[p + "fc1.weight"] = {FFN, D};
    k[p + "fc1.bias"] = {FFN};
    k[p + "fc2.weight"] = {D, FFN};
    k[p + "fc2.bias"] = {D};
    k[p + "final_layer_norm.weight"] = k[p + "final_layer_norm.bias"] = {D};
  }
  k["encoder.layer_norm.weight"] = k["encoder.layer_norm.bias"] = {D};
  if (!pretrain) {
    std::map<std::string, std::vector<int64_t>> ft;
    for (auto& [name, shape] : k) ft["w2v_encoder.w2v_model." + name] = shape;
    ft["w2v_encoder.proj.weight"] = {vocab, D};
    ft["w2v_encoder.proj.bias"] = {vocab};
    return ft;
  }
  return k;
}

std::map<std::string, std::vector<int64_t>> model_keys(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> k;
  for (const auto& p : m.named_parameters()) k[p.key()] = p.value().sizes().vec();
  return k;
}

int64_t numel(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST(ModelNames, BasePretrainKeysAndCount) {
  auto cfg = Wav2Vec2Config::preset("base");
  Wav2Vec2Model m(cfg);
  auto expected = spec_keys(cfg, true, 0);
  EXPECT_EQ(expected.size(), 218u);
  EXPECT_EQ(model_keys(*m), expected);
  EXPECT_NEAR(numel(*m) / 1e6, 95.04, 0.005);
}

TEST(ModelNames, BaseCtcKeys) {
  auto cfg = Wav2Vec2Config::preset("base");
  Wav2VecCtc m(cfg, 32);
  auto expected = spec_keys(cfg, false, 32);
  EXPECT_EQ(expected.size(), 213u);
  EXPECT_EQ(model_keys(*m), expected);
  EXPECT_NEAR(numel(*m) / 1e6, 94.4, 0.05);
}

TEST(ModelNames, LargeLvPretrainKeysAndCount) {
  auto cfg = Wav2Vec2Config::preset("large_lv");
  Wav2Vec2Model m(cfg);
  auto expected = spec_keys(cfg, true, 0);
  EXPECT_EQ(expected.size(), 429u);
  EXPECT_EQ(model_keys(*m), expected);
  EXPECT_NEAR(numel(*m) / 1e6, 317.39, 0.005);
}

TEST(ModelNames, LargeLvCtcCount) {
  Wav2VecCtc m(Wav2Vec2Config::preset("large_lv"), 32);
  EXPECT_NEAR(numel(*m) / 1e6, 315.5, 0.05);
}
