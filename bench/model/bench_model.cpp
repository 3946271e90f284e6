// BASE CTC forward (inference) on S seconds of audio: w2v at each --precision vs torchaudio
// 0.13 fp32 with the same random weights, the same input and the same thread count, in the
// same run.
//   bench_model [--seconds S] [--threads N (0 = all cores)] [--repeats R] [--preset base|large_lv]
//               [--batch B] [--precision LIST (fp32,bf16,int8)] [--reference LIST|none]
// --profile writes a chrome trace of one more forward of the last variant (profile_summary.py).
// References (LIST of torchaudio, onnxruntime; default torchaudio): torchaudio fp32, and ONNX
// Runtime fp32 on the same model exported by torch.onnx.export (needs node and onnxruntime-node
// installed in --ort-dir, default build/ort: scripts/bench.sh installs it).
// Prints seconds per forward (median of R after one warm-up), x-realtime and the ratio to each
// reference; "stock" is the unprepared model (LibTorch's default kernels). The variants run
// interleaved (one forward of each per round), so load changes hit them alike. Each precision's
// logits are compared with fp32's: max |difference| / max |fp32 logit| and the share of frames
// whose greedy (argmax) token agrees.
#include <ATen/Parallel.h>
#include <fmt/core.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/serialize.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "model/ctc.h"
#include "model/cpu_runtime.h"
#include "model/precision.h"
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  int threads = 0, repeats = 3, batch = 1;
  bool stock = true;
  std::string profile;
  std::string preset = "base", precisions = "fp32,bf16,int8", references = "torchaudio",
              ort_dir = std::string(W2V_BINARY_DIR) + "/ort";
  const char* usage =
      "usage: bench_model [--seconds S (10)] [--threads N (0 = all cores)] [--repeats R (3)] [--preset base|large_lv]\n"
      "                   [--batch B (1)] [--precision LIST (fp32,bf16,int8)]\n"
      "                   [--reference LIST of torchaudio,onnxruntime | none (torchaudio)] [--ort-dir DIR (build/ort)]\n"
      "                   [--stock 0|1 (1: also time the unprepared model)] [--profile TRACE.json]\n"
      "BASE/LARGE CTC forward on S seconds: w2v per precision vs the references in fp32 (same weights, input and threads).\n";
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
    else if (a == "--batch") batch = std::stoi(argv[i + 1]);
    else if (a == "--precision") precisions = argv[i + 1];
    else if (a == "--reference") references = argv[i + 1];
    else if (a == "--ort-dir") ort_dir = argv[i + 1];
    else if (a == "--stock") stock = std::string(argv[i + 1]) != "0";
    else if (a == "--profile") profile = argv[i + 1];
    else {
      fmt::print(stderr, "bench_model: unknown option {}\n{}", a, usage);
      return 2;
    }
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto& runtime = w2v::model::tune_cpu_runtime();
  at::set_num_threads(threads);
  auto cfg = w2v::model::Wav2Vec2Config::preset(preset);
  // The same seed gives every variant the same weights.
  auto build = [&] {
    torch::manual_seed(0);
    w2v::model::Wav2VecCtc m(cfg, 32);
    m->eval();
    return m;
  };
  auto model = build();
  const int64_t L = static_cast<int64_t>(seconds * 16000);
  auto source = 0.1 * torch::randn({batch, L});
  std::vector<w2v::model::Precision> modes;
  std::vector<w2v::model::Wav2VecCtc> prepared;
  for (const auto& p : split(precisions)) {
    modes.push_back(w2v::model::parse_precision(p));
    prepared.push_back(build());
    prepared.back()->prepare(modes.back());
  }

  std::vector<std::string> engines;
  if (references != "none") engines = split(references);
  for (const auto& e : engines) {
    if (e != "torchaudio" && e != "onnxruntime") {
      fmt::print(stderr, "bench_model: --reference {}: expected a list of torchaudio, onnxruntime, or none\n", e);
      return 2;
    }
  }
  // Hand the same weights and input to the reference.
  std::filesystem::path dir;
  std::string in_path;
  if (!engines.empty()) {
    dir = std::filesystem::temp_directory_path() / ("w2v_bench_model_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    c10::Dict<std::string, at::Tensor> state;
    for (const auto& p : model->named_parameters()) state.insert(p.key(), p.value().detach());
    c10::impl::GenericDict in(c10::StringType::get(), c10::AnyType::get());
    in.insert("state", state);
    in.insert("source", source);
    in.insert("preset", preset);
    in.insert("threads", static_cast<int64_t>(threads));
    in.insert("repeats", static_cast<int64_t>(repeats));
    in.insert("engines", references);
    in.insert("ort_dir", ort_dir);
    auto bytes = torch::pickle_save(c10::IValue(in));
    in_path = (dir / "in.pt").string();
    w2v::write_file_atomic(in_path, std::string(bytes.begin(), bytes.end()));
  }

  torch::NoGradGuard no_grad;
  // variants: 0 = stock, 1.. = prepared[i - 1]; one forward of each per round after a warm-up.
  std::vector<w2v::model::Wav2VecCtc> variants{model};
  variants.insert(variants.end(), prepared.begin(), prepared.end());
  std::vector<torch::Tensor> logits(variants.size());
  std::vector<std::vector<double>> times(variants.size());
  for (int r = -1; r < repeats; ++r) {
    for (size_t v = stock ? 0 : 1; v < variants.size(); ++v) {
      double t0 = now();
      logits[v] = variants[v]->forward(source).logits;
      if (r >= 0) times[v].push_back(now() - t0);
    }
  }
  // One more forward of the last variant under LibTorch's profiler (a chrome trace;
  // bench/model/profile_summary.py sums it per operator).
  if (!profile.empty()) {
    torch::autograd::profiler::RecordProfile guard(profile);
    variants.back()->forward(source);
  }
  // model_ref.py prints "ENGINE seconds X [version V max_abs_diff D]", one line per engine.
  struct Reference {
    std::string engine, note;
    double seconds;
  };
  std::vector<Reference> refs;
  if (!engines.empty()) {
    std::istringstream out(run("/usr/bin/python3 " + std::string(W2V_SOURCE_DIR) + "/bench/model/model_ref.py " + in_path));
    std::filesystem::remove_all(dir);
    for (std::string line; std::getline(out, line);) {
      std::istringstream words(line);
      Reference r;
      std::string key, version, diff;
      if (!(words >> r.engine >> key >> r.seconds)) continue;
      if (words >> key >> version >> key >> diff) r.note = fmt::format("  ({} {}, max abs logit diff to torchaudio {})", r.engine, version, diff);
      refs.push_back(r);
    }
  }
  const auto cpu = w2v::model::cpu_kernels();
  fmt::print("model forward ({} CTC, {:.0f} s audio x {}, {} frames, {} threads, median of {}; CPU kernels: bf16 {}, int8 {})\n",
             preset, seconds, batch, logits.back().size(0), threads, repeats, cpu.bf16 ? "avx512_bf16" : "fallback",
             cpu.int8 ? "avx512_vnni" : "fallback");
  // The references run in this environment too, so with the same OpenBLAS kernels.
  fmt::print("  OpenBLAS kernels {}{}; tensor cache {} MiB (W2V_CPU_CACHE_MB)\n",
             runtime.blas_core.empty() ? "-" : runtime.blas_core,
             std::getenv("OPENBLAS_CORETYPE") ? " (set by OPENBLAS_CORETYPE)" : "", runtime.cache_limit >> 20);
  for (const auto& r : refs)
    fmt::print("  {:>11} fp32 {:.3f} s  {:.1f}x realtime{}\n", r.engine, r.seconds, seconds * batch / r.seconds, r.note);
  // Accuracy against the prepared fp32 model when measured, else the stock one.
  torch::Tensor base = stock ? logits[0] : logits[1];
  for (size_t i = 0; i < modes.size(); ++i)
    if (modes[i] == w2v::model::Precision::kFp32) base = logits[i + 1];
  for (size_t v = stock ? 0 : 1; v < variants.size(); ++v) {
    const double t = median(times[v]);
    const std::string name = v == 0 ? "stock fp32" : w2v::model::precision_name(modes[v - 1]);
    fmt::print("  w2v {:>10} {:.3f} s  {:.1f}x realtime", name, t, seconds * batch / t);
    for (const auto& r : refs) fmt::print("  time ratio to {} {:.2f}", r.engine, t / r.seconds);
    const double rel = ((logits[v] - base).abs().max() / base.abs().max()).item<double>();
    const double agree = (logits[v].argmax(-1) == base.argmax(-1)).to(torch::kDouble).mean().item<double>();
    fmt::print("  vs fp32: max rel. error {:.2e}, argmax agreement {:.2f} %, prepared weights {:.0f} MB\n", rel,
               100 * agree, variants[v]->w2v_encoder->w2v_model->prepared_bytes() / 1e6);
  }
  return 0;
}
