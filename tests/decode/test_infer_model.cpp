// `w2v infer --path` and `w2v transcribe` with a real (tiny, random) CTC checkpoint: the
// emissions infer dumps equal the model's own forward on each file (fp32, 1e-4) however it
// batches them, and transcribe's text equals greedy decoding of that forward; long files are
// read window by window in memory that does not grow with their length.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/run_command.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "audio/audio.h"
#include "checkpoint/model_io.h"
#include "decode/emission_file.h"
#include "decode/infer/acoustic_model.h"
#include "decode/viterbi.h"
#include "recognizer/tiny_ctc.h"

namespace w2v::decode {
namespace {

using w2v::test::run_command;

namespace fs = std::filesystem;


model::Wav2VecCtc save_tiny_ctc(const fs::path& path, const std::string& extractor_mode, bool normalize = false) {
  return test::save_tiny_ctc(path.string(), extractor_mode, normalize);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float err = 0;
  for (size_t k = 0; k < std::min(a.size(), b.size()); ++k) err = std::max(err, std::abs(a[k] - b[k]));
  return err;
}

class InferModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "infer_model";
    fs::create_directories(dir_);
    model_ = save_tiny_ctc(dir_ / "model.pt", "default");
    ckpt::librispeech_letters().save((dir_ / "dict.ltr.txt").string());
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

  // Both waveforms as one zero-padded batch [2 × 19200] and its padding mask (true = padding).
  std::pair<torch::Tensor, torch::Tensor> padded_batch() {
    auto source = torch::zeros({2, 19200});
    auto padding = torch::zeros({2, 19200}, torch::kBool);
    source[0].copy_(torch::from_blob(waves_[0].data(), {19200}));
    source[1].narrow(0, 0, 11000).copy_(torch::from_blob(waves_[1].data(), {11000}));
    padding[1].narrow(0, 11000, 19200 - 11000).fill_(true);
    return {source, padding};
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
  // max-tokens 20000 runs each utterance alone; the default puts both in one batch, which must
  // not change them (group-norm model: see BatchEmissionsEqualSingleRuns).
  for (const char* max_tokens : {" --max-tokens 20000", ""}) {
    std::string out;
    const std::string em = (dir_ / "em.bin").string();
    ASSERT_EQ(run_command(std::string(W2V_BINARY) + " infer " + dir_.string() + " --subset test --path " +
                              (dir_ / "model.pt").string() + max_tokens + " --dump-emissions " + em,
                          out),
              0)
        << out;
    EXPECT_NE(out.find("WER: "), std::string::npos) << out;
    auto stored = read_emissions(em);
    ASSERT_EQ(stored.size(), 2u);
    for (int i = 0; i < 2; ++i) EXPECT_LE(max_abs_diff(stored[i].data, forward(waves_[i])), 1e-4f) << "utterance " << i << max_tokens;
  }
}

// Batched emissions equal each input's run alone, for both feature extractors. For the
// group-norm one a plain padded forward does not (checked, so that the test means something).
TEST_F(InferModel, BatchEmissionsEqualSingleRuns) {
  for (const std::string mode : {"default", "layer_norm"}) {
    const fs::path path = dir_ / ("batch_" + mode + ".pt");
    auto ctc = save_tiny_ctc(path, mode);
    AcousticModel model(path.string());
    auto batch = model.emissions({&waves_[0], &waves_[1]});
    ASSERT_EQ(batch.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      auto alone = model.emissions({&waves_[i]}).at(0).data;
      ASSERT_GT(alone.size(), 0u);
      // Group-norm inputs run unpadded (bit-identical math); layer-norm batches run padded, the
      // same math in other matrix shapes, so only float rounding may differ.
      EXPECT_LE(max_abs_diff(batch[i].data, alone), mode == "default" ? 1e-5f : 1e-4f) << mode << " utterance " << i;
    }
    torch::NoGradGuard no_grad;
    const auto [source, padding] = padded_batch();
    auto logits = ctc->forward(source, padding).logits.select(1, 1).contiguous();
    const auto& alone = batch[1].data;
    std::vector<float> padded(logits.data_ptr<float>(), logits.data_ptr<float>() + alone.size());
    // AcousticModel runs the inference-prepared fp32 model (fused q/k/v, model/precision.h):
    // the module's own forward differs from it by float rounding only.
    if (mode == "default") EXPECT_GT(max_abs_diff(padded, alone), 1e-2f);
    else EXPECT_LE(max_abs_diff(padded, alone), 1e-4f);
  }
}

// crop_seq_to_multiple 3 crops a padded batch's frames, not each input's: a model that crops
// batches only inputs of equal length, so each input's emissions are its run alone (a plain
// padded forward gives the shorter input frames its own run drops: checked, so that the test
// means something).
TEST_F(InferModel, CroppingModelBatchEmissionsEqualSingleRuns) {
  const fs::path path = dir_ / "batch_crop.pt";
  auto ctc = test::save_tiny_ctc(path.string(), "layer_norm", false, 0, 3);
  AcousticModel model(path.string());
  auto batch = model.emissions({&waves_[0], &waves_[1]});
  ASSERT_EQ(batch.size(), 2u);
  std::vector<int> alone_frames;
  for (int i = 0; i < 2; ++i) {
    const auto alone = model.emissions({&waves_[i]}).at(0);
    EXPECT_EQ(alone.frames % 3, 0) << i;
    EXPECT_EQ(batch[i].frames, alone.frames) << i;
    EXPECT_LE(max_abs_diff(batch[i].data, alone.data), 1e-5f) << "utterance " << i;
    alone_frames.push_back(alone.frames);
  }
  torch::NoGradGuard no_grad;
  const auto [source, padding] = padded_batch();
  const auto out = ctc->forward(source, padding);
  const int64_t padded_frames = out.logits.size(0) - out.padding_mask[1].sum().item<int64_t>();
  EXPECT_NE(padded_frames, alone_frames[1]);
}

// transcribe reads long files window by window from disk and normalises with whole-file
// statistics: the same emissions as windows cut from the whole file read and normalised in
// memory.
TEST_F(InferModel, FileEmissionsStreamWindowsFromDisk) {
  const fs::path path = dir_ / "norm.pt";
  save_tiny_ctc(path, "layer_norm", /*normalize=*/true);
  AcousticModel model(path.string());
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.3f, 0.2f);  // a mean and scale normalisation must remove
  std::vector<float> raw(3 * audio::kSampleRate + 123);
  for (auto& x : raw) x = g(rng);
  const std::string wav = (dir_ / "long.wav").string();
  audio::write(wav, raw, audio::kSampleRate, audio::Encoding::kFloat);
  audio::ReadOptions read;
  read.normalize = true;
  const auto whole = audio::read(wav, read);
  std::vector<float> expected;
  const int V = static_cast<int>(model.symbols().size());
  const auto chunks = plan_chunks(static_cast<int64_t>(whole.size()), 8000, 1600, model.geometry());
  ASSERT_GT(chunks.size(), 4u);
  for (const auto& c : chunks) {
    std::vector<float> window(whole.begin() + c.start, whole.begin() + c.start + c.length);
    auto e = model.emissions({&window}).at(0);
    append_chunk(c, e.data.data(), e.frames, V, model.geometry(), expected);
  }
  std::vector<int64_t> progress;
  auto streamed = model.file_emissions(wav, 0.5, 0.1, [&](int64_t samples) { progress.push_back(samples); }).data;
  EXPECT_EQ(static_cast<int64_t>(expected.size()), model.geometry().frames(static_cast<int64_t>(raw.size())) * V);
  EXPECT_LE(max_abs_diff(streamed, expected), 1e-4f);
  ASSERT_EQ(progress.size(), chunks.size());
  EXPECT_EQ(progress.back(), static_cast<int64_t>(raw.size()));

  // An 8 kHz copy is resampled region by region: one frame per 20 ms of the file all the same.
  std::vector<float> half(raw.size() / 2);
  for (size_t i = 0; i < half.size(); ++i) half[i] = raw[2 * i];
  const std::string wav8k = (dir_ / "long8k.wav").string();
  audio::write(wav8k, half, 8000, audio::Encoding::kFloat);
  EXPECT_EQ(static_cast<int64_t>(model.file_emissions(wav8k, 0.5, 0.1).data.size()),
            model.geometry().frames(static_cast<int64_t>(half.size()) * 2) * V);
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

// infer MODEL DATA_DIR uses the model's own dictionary: no dict.ltr.txt needed, a reordered one
// is an error naming the first differing row, and reference units the model cannot output are
// named in a warning; a 48 kHz file is resampled (as transcribe does), not refused.
TEST_F(InferModel, InferUsesModelDictionaryAndResamples) {
  const fs::path data = dir_ / "own_dict";
  fs::create_directories(data);
  std::vector<float> wave48k(3 * waves_[0].size());
  for (size_t i = 0; i < wave48k.size(); ++i) wave48k[i] = waves_[0][i / 3];
  audio::write((data / "u48.wav").string(), wave48k, 48000, audio::Encoding::kFloat);
  std::ofstream(data / "test.tsv") << data.string() << "\nu0.wav\t19200\nu48.wav\t" << wave48k.size() << "\n";
  fs::copy_file(dir_ / "u0.wav", data / "u0.wav", fs::copy_options::overwrite_existing);
  std::ofstream(data / "test.ltr") << "A B C |\nD # |\n";
  const std::string base = std::string(W2V_BINARY) + " infer " + (dir_ / "model.pt").string() + " " + data.string();
  std::string out;
  fs::remove(data / "dict.ltr.txt");
  ASSERT_EQ(run_command(base + " --dump-emissions " + (data / "em.bin").string(), out), 0) << out;
  EXPECT_NE(out.find("WER: "), std::string::npos) << out;
  EXPECT_NE(out.find("cannot output"), std::string::npos) << out;
  EXPECT_NE(out.find("'#' (1x)"), std::string::npos) << out;
  const auto stored = read_emissions((data / "em.bin").string());
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].frames, stored[0].frames);  // 48 kHz: the same 1.2 s, the same frames

  // The model's dictionary with two letters swapped: same size, wrong mapping.
  auto d = ckpt::librispeech_letters();
  std::ofstream dict(data / "dict.ltr.txt");
  for (int64_t i = 4; i < d.size(); ++i) dict << d.symbol(i == 5 ? 6 : i == 6 ? 5 : i) << " 1\n";
  dict.close();
  EXPECT_NE(run_command(base, out), 0) << out;
  EXPECT_NE(out.find("first differ at row 5"), std::string::npos) << out;
  // The fairseq form (--path) still works, and the model may not be given twice.
  fs::remove(data / "dict.ltr.txt");
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " infer " + data.string() + " --path " + (dir_ / "model.pt").string(), out), 0) << out;
  EXPECT_NE(run_command(base + " --path " + (dir_ / "model.pt").string(), out), 0) << out;
}

// transcribe MODEL AUDIO... (the model first, as extract/info/export take it) equals the
// --path form; several files print "path<TAB>text"; a file name that is not UTF-8 comes out
// escaped in JSON instead of failing after the compute.
TEST_F(InferModel, TranscribeModelFirstAndJsonEscapesNames) {
  std::string a, b;
  const std::string model = (dir_ / "model.pt").string(), u0 = (dir_ / "u0.wav").string();
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " transcribe " + model + " " + u0, a), 0) << a;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " transcribe --path " + model + " " + u0, b), 0) << b;
  EXPECT_EQ(a, b);
  const std::string odd = (dir_ / "caf\xe9.wav").string();  // Latin-1 file name
  fs::copy_file(dir_ / "u1.wav", odd, fs::copy_options::overwrite_existing);
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " transcribe " + model + " " + u0 + " '" + odd + "'", a), 0) << a;
  EXPECT_EQ(a.rfind(u0 + "\t", 0), 0u) << a;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " transcribe " + model + " '" + odd + "' --format json -o " +
                            (dir_ / "odd.json").string(),
                        a),
            0)
      << a;
  std::ifstream in(dir_ / "odd.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["files"][0]["path"].get<std::string>(), (dir_ / "caf\\xe9.wav").string());
}

// transcribe's several-file output ("path<TAB>text") scores with `w2v wer`: by key against a
// keyed reference in another order (a key matches its file stem), by position against plain
// lines with a note - never with the paths counted as words.
TEST_F(InferModel, TranscribeOutputScoresWithWer) {
  const std::string hyp = (dir_ / "hyp.txt").string();
  std::string out;
  ASSERT_EQ(run_command(std::string(W2V_BINARY) + " transcribe " + (dir_ / "model.pt").string() + " " +
                            (dir_ / "u0.wav").string() + " " + (dir_ / "u1.wav").string() + " -o " + hyp,
                        out),
            0)
      << out;
  std::ifstream in(hyp);
  std::string line0, line1;
  std::getline(in, line0);
  std::getline(in, line1);
  const std::string text0 = line0.substr(line0.find('\t') + 1), text1 = line1.substr(line1.find('\t') + 1);
  ASSERT_FALSE(text0.empty()) << line0;
  std::ofstream(dir_ / "ref_keyed.txt") << "u1\t" << text1 << "\nu0\t" << text0 << " EXTRA\n";
  std::ofstream(dir_ / "ref_plain.txt") << text0 << " EXTRA\n" << text1 << "\n";
  const size_t words = std::count(text0.begin(), text0.end(), ' ') + 2 + (text1.empty() ? 0 : std::count(text1.begin(), text1.end(), ' ') + 1);
  const std::string expected = fmt::format("WER: {:.2f} % (1 errors / {} words", 100.0 / words, words);
  for (const char* ref : {"ref_keyed.txt", "ref_plain.txt"}) {
    ASSERT_EQ(run_command(std::string(W2V_BINARY) + " wer " + (dir_ / ref).string() + " " + hyp, out), 0) << out;
    EXPECT_NE(out.find(expected), std::string::npos) << ref << ": " << out;
    EXPECT_EQ(out.find("note:") != std::string::npos, std::string(ref) == "ref_plain.txt") << out;
  }
}

// Peak resident memory (KiB) of a command run to completion (wait4's rusage), its output
// discarded; fails the test unless it exits with 0.
long peak_rss_kib(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  EXPECT_EQ(wait4(pid, &status, 0, &usage), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args[0] << " " << args[1];
  return usage.ru_maxrss;
}

// transcribe holds one window, not the file: 10 minutes of audio take little more memory than
// 5 (the extra 5 minutes are 19 MB as float samples). What does grow is the emissions (32
// floats per 20 ms, 1.9 MB per 5 minutes) and the decoder's per-frame arrays. Both files span
// many full windows, so the model's activations peak alike.
TEST_F(InferModel, TranscribeMemoryDoesNotGrowWithLength) {
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.f, 0.2f);
  std::vector<long> rss;
  for (int seconds : {300, 600}) {
    std::vector<float> wave(static_cast<size_t>(seconds) * audio::kSampleRate);
    for (auto& x : wave) x = g(rng);
    const std::string wav = (dir_ / fmt::format("noise{}.wav", seconds)).string();
    audio::write(wav, wave, audio::kSampleRate, audio::Encoding::kPcm16);
    rss.push_back(peak_rss_kib({W2V_BINARY, "transcribe", wav, "--path", (dir_ / "model.pt").string(), "-o",
                                (dir_ / "noise.txt").string()}));
  }
  EXPECT_LT(rss[1] - rss[0], 10 * 1024) << "peak RSS " << rss[0] << " KiB for 300 s, " << rss[1] << " KiB for 600 s";
}

}  // namespace
}  // namespace w2v::decode
