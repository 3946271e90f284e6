// `w2v infer --path` and `w2v transcribe` with a real (tiny, random) CTC checkpoint: the
// emissions infer dumps equal the model's own forward on each file (fp32, 1e-4), and
// transcribe's text equals greedy decoding of that forward; long files go through chunks.
#include <gtest/gtest.h>

#include "common/run_command.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/audio.h"
#include "checkpoint/model_io.h"
#include "decode/emission_file.h"
#include "decode/viterbi.h"

namespace w2v::decode {
namespace {

using w2v::test::run_command;

namespace fs = std::filesystem;


class InferModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "infer_model";
    fs::create_directories(dir_);
    torch::manual_seed(3);
    ckpt::LoadedModel m;
    m.kind = ckpt::ModelKind::kCtc;
    auto& c = m.config;
    c.conv_feature_layers = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2";
    c.encoder_layers = 2;
    c.encoder_embed_dim = 32;
    c.encoder_ffn_embed_dim = 64;
    c.encoder_attention_heads = 2;
    c.conv_pos = 16;
    c.conv_pos_groups = 4;
    m.dictionary = ckpt::librispeech_letters();
    m.ctc = model::Wav2VecCtc(c, m.dictionary->size(), m.asr);
    {
      // Larger output weights so that the random model's argmax changes between frames.
      torch::NoGradGuard no_grad;
      m.ctc->w2v_encoder->proj->weight.mul_(20);
    }
    m.ctc->eval();
    model_ = m.ctc;
    ckpt::save_model((dir_ / "model.pt").string(), m);
    m.dictionary->save((dir_ / "dict.ltr.txt").string());
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.f, 0.2f);
    for (int i = 0; i < 2; ++i) {
      std::vector<float> wave(i == 0 ? 19200 : 11000);
      for (auto& x : wave) x = g(rng);
      audio::write((dir_ / fmt::format("u{}.wav", i)).string(), wave, audio::kSampleRate, audio::Encoding::kFloat);
      waves_.push_back(wave);
    }
    std::ofstream(dir_ / "test.tsv") << dir_.string() << "\nu0.wav\t19200\nu1.wav\t11000\n";
    std::ofstream(dir_ / "test.ltr") << "A B C |\nD |\n";
  }

  // The model's own forward on one waveform: [T × V].
  std::vector<float> forward(const std::vector<float>& wave) {
    torch::NoGradGuard no_grad;
    auto x = torch::from_blob(const_cast<float*>(wave.data()), {1, static_cast<int64_t>(wave.size())}).clone();
    auto logits = model_->forward(x).logits.select(1, 0).contiguous();
    return {logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel()};
  }

  fs::path dir_;
  model::Wav2VecCtc model_{nullptr};
  std::vector<std::vector<float>> waves_;
};

TEST_F(InferModel, InferEmissionsEqualModelForward) {
  std::string out;
  const std::string em = (dir_ / "em.bin").string();
  // max-tokens below two utterances: each runs alone (no padding), as forward() does here.
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " infer " + dir_.string() + " --subset test --path " +
                    (dir_ / "model.pt").string() + " --max-tokens 20000 --dump-emissions " + em,
                out),
            0)
      << out;
  EXPECT_NE(out.find("WER: "), std::string::npos) << out;
  auto stored = read_emissions(em);
  ASSERT_EQ(stored.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    auto expected = forward(waves_[i]);
    ASSERT_EQ(stored[i].data.size(), expected.size());
    float err = 0;
    for (size_t k = 0; k < expected.size(); ++k) err = std::max(err, std::abs(stored[i].data[k] - expected[k]));
    EXPECT_LE(err, 1e-4f) << "utterance " << i;
  }
}

TEST_F(InferModel, TranscribeMatchesGreedyOnForwardAndChunks) {
  TokenSet tokens([] {
    std::vector<std::string> s;
    auto d = ckpt::librispeech_letters();
    for (int64_t i = 0; i < d.size(); ++i) s.push_back(d.symbol(i));
    return s;
  }());
  auto e = forward(waves_[0]);
  auto expected = ViterbiDecoder(tokens).decode({e.data(), static_cast<int>(e.size() / tokens.size()), tokens.size()});
  ASSERT_FALSE(expected.words.empty());
  std::string out;
  const std::string base = std::string(W2V_BINARY) + " transcribe " + (dir_ / "u0.wav").string() + " --path " +
                           (dir_ / "model.pt").string();
  ASSERT_EQ(run_command(base + " --format json -o " + (dir_ / "u0.json").string(), out), 0) << out;
  std::ifstream in(dir_ / "u0.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["files"][0]["text"].get<std::string>(), expected.text());
  EXPECT_EQ(j["files"][0]["words"].size(), expected.words.size());
  EXPECT_NEAR(j["files"][0]["words"][0]["start"].get<double>(), expected.words[0].start, 1e-3);

  // 0.3 s windows with 0.1 s context: a different text is allowed (less context), but the
  // words must lie inside the file and in order, and SRT must come out.
  ASSERT_EQ(run_command(base + " --format json --chunk-seconds 0.3 --overlap-seconds 0.1 -o " + (dir_ / "c.json").string(), out), 0)
      << out;
  std::ifstream cin(dir_ / "c.json");
  auto c = nlohmann::json::parse(cin);
  double prev = 0;
  for (const auto& w : c["files"][0]["words"]) {
    EXPECT_GE(w["start"].get<double>(), prev);
    EXPECT_LE(w["end"].get<double>(), 1.2 + 1e-9);
    prev = w["end"].get<double>();
  }
  ASSERT_EQ(run_command(base + " --format srt --chunk-seconds 0.3 --overlap-seconds 0.1", out), 0) << out;
  EXPECT_EQ(out.rfind("1\n00:00:", 0), 0u) << out;
}

}  // namespace
}  // namespace w2v::decode
