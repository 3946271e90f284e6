// w2v info / w2v extract end to end: a checkpoint written by src/checkpoint, audio written by
// src/audio, the binary run as a user would, its .npy files read back with numpy
// (tools/oracle/model_npy.py) and compared with the library's own forward pass.
// --precision bf16/int8 outputs stay within their accuracy bounds of that forward.
#include <ATen/Parallel.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "audio/audio.h"
#include "checkpoint/model_io.h"
#include "checkpoint/torch_file.h"
#include "oracle.h"

using namespace w2v;
using namespace w2v::test;

namespace {

struct Result {
  int rc;
  std::string output;
};

Result run_w2v(const std::string& args) {
  if (!std::filesystem::exists(W2V_BINARY)) throw std::runtime_error(std::string("w2v binary not built: ") + W2V_BINARY);
  std::string cmd = std::string(W2V_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WEXITSTATUS(status), out};
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    torch::manual_seed(31);
    cfg = small_config("base");
    model = model::Wav2VecCtc(cfg, 32);
    model->eval();
    ckpt::LoadedModel lm;
    lm.kind = ckpt::ModelKind::kCtc;
    lm.config = cfg;
    lm.ctc = model;
    ckpt_path = dir.file("ctc.pt");
    ckpt::save_model(ckpt_path, lm);
    for (auto [name, n] : {std::pair{"a", 5000}, {"b", 7300}}) {
      auto x = (0.3 * torch::randn({n})).clamp(-1, 1);
      std::vector<float> v(x.data_ptr<float>(), x.data_ptr<float>() + n);
      audio::write(dir.file(std::string(name) + ".wav"), v, 16000, audio::Encoding::kFloat);
    }
  }

  at::Tensor audio_tensor(const std::string& name) {
    auto v = audio::read(dir.file(name));
    return torch::tensor(v).unsqueeze(0);
  }

  TempDir dir;
  model::Wav2Vec2Config cfg;
  model::Wav2VecCtc model{nullptr};
  std::string ckpt_path;
};

}  // namespace

TEST_F(ModelCli, InfoShowsArchitectureAndParameterCount) {
  auto r = run_w2v("info " + ckpt_path);
  ASSERT_EQ(r.rc, 0) << r.output;
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  EXPECT_NE(r.output.find(fmt::format("parameters: {} ", n)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("wav2vec_ctc"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3 layers, dim 48"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ctc outputs: 32"), std::string::npos) << r.output;
}

TEST_F(ModelCli, ExtractWritesFeaturesLayersAndLogitsReadableByNumpy) {
  const std::string out = dir.file("out");
  auto r = run_w2v(fmt::format("extract {} {} {} -o {} --logits", ckpt_path, dir.file("a.wav"), dir.file("b.wav"), out));
  ASSERT_EQ(r.rc, 0) << r.output;
  r = run_w2v(fmt::format("extract {} {} -o {} --layer 2", ckpt_path, dir.file("a.wav"), dir.file("layer2")));
  ASSERT_EQ(r.rc, 0) << r.output;
  r = run_w2v(fmt::format("extract {} {} -o {} --all-layers", ckpt_path, dir.file("b.wav"), dir.file("all")));
  ASSERT_EQ(r.rc, 0) << r.output;
  auto numpy_read = [&](const std::string& files) {
    run_oracle("model_npy.py", dir.file("npy.pt") + " " + files);
    return load_dict(dir.file("npy.pt"));
  };
  auto got = numpy_read(fmt::format("{0}/a.npy {0}/a.logits.npy {0}/b.npy {0}/b.logits.npy", out));
  EXPECT_EQ(got.at("dtypes").toStringRef().substr(0, 14), "a.npy=float32,");
  auto layer2 = get_tensor(numpy_read(dir.file("layer2") + "/a.npy"), "a.npy");
  r = run_w2v(fmt::format("extract {} {} -o {} --all-layers --format pt --logits", ckpt_path, dir.file("b.wav"), dir.file("all_pt")));
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto layer3_pt = ckpt::load_torch_file(dir.file("all_pt") + "/b.layer3.pt");
  const auto logits_pt = ckpt::load_torch_file(dir.file("all_pt") + "/b.logits.pt");
  EXPECT_FALSE(layer3_pt.has("logits"));
  auto all = numpy_read(fmt::format("{0}/b.layer1.npy {0}/b.layer2.npy {0}/b.layer3.npy", dir.file("all")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("all") + "/b.npy"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("all") + "/b.layer4.npy"));

  torch::NoGradGuard no_grad;
  for (std::string name : {"a", "b"}) {
    auto source = audio_tensor(name + ".wav");
    auto f = model->w2v_encoder->w2v_model->extract_features(source);
    auto logits = model->forward(source).logits.select(1, 0);
    EXPECT_LE(max_abs_diff(get_tensor(got, name + ".npy"), f.x.select(0, 0)), 1e-5) << name;
    EXPECT_LE(max_abs_diff(get_tensor(got, name + ".logits.npy"), logits), 1e-5) << name;
    if (name == "a") EXPECT_LE(max_abs_diff(layer2, f.layer_results[1].select(0, 0)), 1e-5);
    if (name == "b") {
      EXPECT_LE(max_abs_diff(layer3_pt.get("features").as_tensor(), f.layer_results[2].select(0, 0)), 1e-5);
      EXPECT_LE(max_abs_diff(logits_pt.get("logits").as_tensor(), logits), 1e-5);
    }
    if (name == "b")
      for (int k = 1; k <= 3; ++k)
        EXPECT_LE(max_abs_diff(get_tensor(all, fmt::format("b.layer{}.npy", k)), f.layer_results[k - 1].select(0, 0)), 1e-5) << k;
  }
}

TEST_F(ModelCli, ExtractErrorsAreOneLineNamingTheProblem) {
  auto r = run_w2v(fmt::format("extract {} {} -o {}", ckpt_path, dir.file("missing.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.output.find("missing.wav"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  std::filesystem::create_directories(dir.file("sub"));
  std::filesystem::copy_file(dir.file("a.wav"), dir.file("sub/a.wav"));
  r = run_w2v(fmt::format("extract {} {} {} -o {}", ckpt_path, dir.file("a.wav"), dir.file("sub/a.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.output.find("would both be written"), std::string::npos) << r.output;
  r = run_w2v(fmt::format("extract {} {} -o {} --layer 4", ckpt_path, dir.file("a.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.output.find("layers 1..3"), std::string::npos) << r.output;
  r = run_w2v(fmt::format("extract {} {} -o {} --format wav", ckpt_path, dir.file("a.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 2) << r.output;
  // An output folder the system refuses (a name over NAME_MAX) is a user error naming the path.
  const std::string overlong = dir.file(std::string(300, 'o'));
  r = run_w2v(fmt::format("extract {} {} -o {}", ckpt_path, dir.file("a.wav"), overlong));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.output.find("w2v: error: " + overlong + ": File name too long"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  r = run_w2v("extrakt " + ckpt_path);
  EXPECT_EQ(r.rc, 2) << r.output;
  EXPECT_NE(r.output.find("unknown command 'extrakt'"), std::string::npos) << r.output;
  r = run_w2v(fmt::format("extract {} {} -o {} --no-such-flag", ckpt_path, dir.file("a.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 2) << r.output;
}

TEST_F(ModelCli, ExtractPrecisionsStayCloseToFp32AndInfoShowsTheirSizes) {
  torch::NoGradGuard no_grad;
  auto logits = model->forward(audio_tensor("b.wav")).logits.select(1, 0);
  for (const std::string p : {"bf16", "int8"}) {
    const std::string out = dir.file("out_" + p);
    auto r = run_w2v(fmt::format("extract {} {} -o {} --logits --precision {}", ckpt_path, dir.file("b.wav"), out, p));
    ASSERT_EQ(r.rc, 0) << r.output;
    run_oracle("model_npy.py", dir.file("npy.pt") + " " + out + "/b.logits.npy");
    auto got = get_tensor(load_dict(dir.file("npy.pt")), "b.logits.npy");
    const double rel = max_abs_diff(got, logits) / logits.abs().max().item<double>();
    EXPECT_GT(rel, 0.0) << p;  // it really ran at that precision
    EXPECT_LE(rel, p == "bf16" ? 3e-2 : 8e-2) << p;
  }
  auto r = run_w2v(fmt::format("extract {} {} -o {} --precision fp16", ckpt_path, dir.file("b.wav"), dir.file("o")));
  EXPECT_EQ(r.rc, 2) << r.output;
  r = run_w2v("info " + ckpt_path);
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("precision: parameters fp32 in memory; inference weights fp32 "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(", int8 "), std::string::npos) << r.output;
}
