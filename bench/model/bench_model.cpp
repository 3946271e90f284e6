// BASE CTC forward (inference, fp32) on S seconds of audio: w2v vs torchaudio 0.13 with the
// same random weights, the same input and the same thread count, in the same run.
//   bench_model [--seconds S] [--threads N (0 = all cores)] [--repeats R] [--preset base|large_lv]
// Prints seconds per forward (best of R after one warm-up), x-realtime and the ratio.
#include <ATen/Parallel.h>
#include <fmt/core.h>
#include <torch/serialize.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "model/ctc.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw w2v::Error("cannot run " + cmd);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  if (pclose(p) != 0) throw w2v::Error("reference failed: " + cmd + "\n" + out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int threads = 0, repeats = 3;
  std::string preset = "base";
  const char* usage =
      "usage: bench_model [--seconds S (10)] [--threads N (0 = all cores)] [--repeats R (3)] [--preset base|large_lv]\n"
      "BASE/LARGE CTC forward on S seconds: w2v vs torchaudio (same weights, input and threads).\n";
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      fmt::print("{}", usage);
      return 0;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "bench_model: option {} needs a value\n{}", a, usage);
      return 2;
    }
    if (a == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--repeats") repeats = std::stoi(argv[i + 1]);
    else if (a == "--preset") preset = argv[i + 1];
    else {
      fmt::print(stderr, "bench_model: unknown option {}\n{}", a, usage);
      return 2;
    }
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  torch::manual_seed(0);
  auto cfg = w2v::model::Wav2Vec2Config::preset(preset);
  w2v::model::Wav2VecCtc model(cfg, 32);
  model->eval();
  const int64_t L = static_cast<int64_t>(seconds * 16000);
  auto source = 0.1 * torch::randn({1, L});

  // Hand the same weights and input to the reference.
  auto dir = std::filesystem::temp_directory_path() / ("w2v_bench_model_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& p : model->named_parameters()) state.insert(p.key(), p.value().detach());
  c10::impl::GenericDict in(c10::StringType::get(), c10::AnyType::get());
  in.insert("state", state);
  in.insert("source", source);
  in.insert("preset", preset);
  in.insert("threads", static_cast<int64_t>(threads));
  in.insert("repeats", static_cast<int64_t>(repeats));
  auto bytes = torch::pickle_save(c10::IValue(in));
  const std::string in_path = (dir / "in.pt").string();
  w2v::write_file_atomic(in_path, std::string(bytes.begin(), bytes.end()));
  bytes.clear();
  bytes.shrink_to_fit();

  torch::NoGradGuard no_grad;
  auto logits = model->forward(source).logits;  // warm-up
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    double t0 = now();
    logits = model->forward(source).logits;
    best = std::min(best, now() - t0);
  }
  std::string out = run("/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/bench/model/model_ref.py " + in_path);
  std::filesystem::remove_all(dir);
  double ref = std::stod(out.substr(out.find("seconds ") + 8));
  fmt::print("model forward ({} CTC, {:.0f} s audio, {} frames, {} threads, best of {})\n", preset, seconds,
             logits.size(0), threads, repeats);
  fmt::print("  w2v        {:.3f} s  {:.1f}x realtime\n", best, seconds / best);
  fmt::print("  torchaudio {:.3f} s  {:.1f}x realtime\n", ref, seconds / ref);
  fmt::print("  ratio w2v/torchaudio time {:.2f}\n", best / ref);
  return 0;
}
