#include <gtest/gtest.h>

#include "model/config.h"
#include "util/error.h"

using w2v::model::ConvLayerSpec;
using w2v::model::Wav2Vec2Config;

TEST(ModelConfig, ParsesFairseqDefaultConvStack) {
  auto layers = w2v::model::parse_conv_feature_layers(Wav2Vec2Config().conv_feature_layers);
  // Spec 1.2 table: (512, 10, 5), 4 x (512, 3, 2), 2 x (512, 2, 2).
  std::vector<ConvLayerSpec> expected{{512, 10, 5}, {512, 3, 2}, {512, 3, 2}, {512, 3, 2},
                                      {512, 3, 2},  {512, 2, 2}, {512, 2, 2}};
  EXPECT_EQ(layers, expected);
}

TEST(ModelConfig, ParsesRepetitionAndSpacing) {
  auto layers = w2v::model::parse_conv_feature_layers("[(8,4,2),(16, 3 ,1)]*2+[ (4, 2, 2) ]");
  std::vector<ConvLayerSpec> expected{{8, 4, 2}, {16, 3, 1}, {8, 4, 2}, {16, 3, 1}, {4, 2, 2}};
  EXPECT_EQ(layers, expected);
}

TEST(ModelConfig, RejectsMalformedExpressionsNamingThem) {
  for (std::string bad : {"", "[(512, 10)]", "[(512, 10, 5)] +", "[(512, 10, 5)] * x", "(512, 10, 5)",
                          "[(512, 10, 5)] junk", "[(0, 10, 5)]", "[(512, -1, 5)]"}) {
    try {
      w2v::model::parse_conv_feature_layers(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const w2v::Error& e) {
      EXPECT_NE(std::string(e.what()).find("\"" + bad + "\""), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("conv_feature_layers"), std::string::npos) << e.what();
    }
  }
}

TEST(ModelConfig, FrameCountsMatchSpec) {
  auto layers = Wav2Vec2Config().conv_layers();
  EXPECT_EQ(w2v::model::conv_output_length(layers, 400), 1);
  EXPECT_EQ(w2v::model::conv_output_length(layers, 399), 0);
  EXPECT_EQ(w2v::model::conv_output_length(layers, 16000), 49);
  EXPECT_EQ(w2v::model::conv_output_length(layers, 250000), 781);
  EXPECT_EQ(w2v::model::conv_output_length(layers, 320000), 999);
  for (int64_t L : {400, 1234, 16000, 99999}) EXPECT_EQ(w2v::model::conv_output_length(layers, L), (L - 400) / 320 + 1);
}

TEST(ModelConfig, PresetsMatchSpec) {
  auto base = Wav2Vec2Config::preset("base");
  EXPECT_EQ(base.encoder_layers, 12);
  EXPECT_EQ(base.encoder_embed_dim, 768);
  EXPECT_EQ(base.encoder_attention_heads, 12);
  EXPECT_EQ(base.extractor_mode, "default");
  EXPECT_FALSE(base.conv_bias);
  EXPECT_EQ(base.final_dim, 256);
  EXPECT_DOUBLE_EQ(base.feature_grad_mult, 0.1);
  EXPECT_DOUBLE_EQ(base.encoder_layerdrop, 0.05);
  auto lv = Wav2Vec2Config::preset("large_lv");
  EXPECT_EQ(lv.encoder_layers, 24);
  EXPECT_EQ(lv.encoder_embed_dim, 1024);
  EXPECT_EQ(lv.encoder_ffn_embed_dim, 4096);
  EXPECT_EQ(lv.encoder_attention_heads, 16);
  EXPECT_EQ(lv.extractor_mode, "layer_norm");
  EXPECT_TRUE(lv.conv_bias && lv.layer_norm_first && lv.normalize);
  EXPECT_DOUBLE_EQ(lv.latent_temp[1], 0.1);
  EXPECT_EQ(lv.vq_dim(), 768);
  auto large = Wav2Vec2Config::preset("large");
  EXPECT_FALSE(large.layer_norm_first);
  EXPECT_EQ(large.extractor_mode, "default");
  for (const auto& c : {base, lv, large}) EXPECT_NO_THROW(c.validate());
  EXPECT_THROW(Wav2Vec2Config::preset("huge"), w2v::Error);
}

TEST(ModelConfig, ValidateNamesTheKey) {
  auto expect_key = [](Wav2Vec2Config c, const std::string& key) {
    try {
      c.validate();
      ADD_FAILURE() << "accepted bad " << key;
    } catch (const w2v::Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  Wav2Vec2Config c;
  c.extractor_mode = "batch_norm";
  expect_key(c, "extractor_mode");
  c = Wav2Vec2Config();
  c.encoder_attention_heads = 7;
  expect_key(c, "encoder_attention_heads");
  c = Wav2Vec2Config();
  c.activation_fn = "relu";
  expect_key(c, "activation_fn");
  c = Wav2Vec2Config();
  c.dropout = 1.5;
  expect_key(c, "dropout");
  c = Wav2Vec2Config::preset("base");
  c.latent_groups = 3;
  expect_key(c, "latent_dim");
}
