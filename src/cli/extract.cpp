// w2v extract CKPT AUDIO... -o DIR: wav2vec 2.0 representations of audio files, flag parsing over
// the library's FeatureExtractor (recognizer/features.h). Files are named after the input's
// stem: <stem>.npy (or <stem>.pt) holding the context network output [T, D] or one layer's output
// (--layer N, 1-based); with --all-layers one file per layer, <stem>.layerK.npy (K = 1..L, as
// HF's hidden_states[K]); with --logits (CTC models) also the CTC logits [T, V] (<stem>.logits.npy,
// key "logits" in a single .pt, or <stem>.logits.pt beside per-layer .pt files).
#include <fmt/core.h>

#include <filesystem>
#include <map>

#include "checkpoint/torch_file.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "model/npy.h"
#include "recognizer/features.h"
#include "util/error.h"

namespace {

struct ExtractOptions {
  std::string checkpoint, out_dir, format = "npy";
  std::vector<std::string> audio;
  int layer = 0;  // 0 = final output
  bool all_layers = false, logits = false;
  int threads = 1;  // as every command: docs/decoding.md, Threads
  std::string precision = "fp32";
};

int run_extract(const ExtractOptions& o) {
  namespace fs = std::filesystem;
  using namespace w2v;
  // Distinct output names before any work, so a collision never overwrites a result.
  std::map<std::string, std::string> stems;
  for (const auto& a : o.audio) {
    auto stem = fs::path(a).stem().string();
    auto [it, fresh] = stems.emplace(stem, a);
    if (!fresh) throw Error(fmt::format("{} and {} would both be written as {}.{}", it->second, a, stem, o.format));
  }
  cli::set_threads(o.threads);
  const FeatureExtractor extractor(o.checkpoint, o.precision);
  if (o.logits && !extractor.ctc()) throw Error(o.checkpoint + ": --logits needs a fine-tuned (CTC) checkpoint");
  if (o.layer < 0 || o.layer > extractor.layers())
    throw Error(fmt::format("--layer {}: the model has layers 1..{}", o.layer, extractor.layers()));
  fs::create_directories(o.out_dir);

  for (const auto& path : o.audio) {
    const auto f = extractor.file(path, o.all_layers ? -1 : o.layer, o.logits);
    // (file name suffix, [T, D] features) pairs: the one output, or every layer's.
    std::vector<std::pair<std::string, torch::Tensor>> outputs;
    for (size_t k = 0; k < f.layers.size(); ++k)
      outputs.emplace_back(o.all_layers ? fmt::format(".layer{}", k + 1) : "", f.layers[k]);
    torch::Tensor logits;
    if (o.logits)
      logits = torch::from_blob(const_cast<float*>(f.logits.data.data()), {f.logits.frames, f.logits.vocab}, torch::kFloat);

    const std::string base = (fs::path(o.out_dir) / fs::path(path).stem()).string();
    // Logits share a single .pt file (key "logits"); otherwise they get <stem>.logits.{npy,pt}.
    const bool logits_file = o.logits && (o.format == "npy" || o.all_layers);
    if (logits_file) outputs.emplace_back(".logits", logits);
    for (const auto& [suffix, tensor] : outputs) {
      if (o.format == "npy") {
        model::write_npy(base + suffix + ".npy", tensor);
      } else {
        auto d = ckpt::Value::dict();
        d.set(suffix == ".logits" ? "logits" : "features", ckpt::Value::tensor(tensor));
        if (o.logits && !logits_file) d.set("logits", ckpt::Value::tensor(logits));
        ckpt::save_torch_file(base + suffix + ".pt", d);
      }
    }
    fmt::print("{}: {} samples -> {} frames\n", path, f.samples, outputs[0].second.size(0));
  }
  return 0;
}

}  // namespace

W2V_COMMAND("extract", std::string(w2v::cli::model_command_description("extract")),
            [](CLI::App& sub) {
              auto o = std::make_shared<ExtractOptions>();
              sub.add_option("MODEL", o->checkpoint, "fairseq/w2v .pt file or HuggingFace directory")->required();
              sub.add_option("AUDIO", o->audio, "audio files (any format and rate libsndfile reads; resampled to 16 kHz)")->required();
              sub.add_option("-o,--out", o->out_dir, "output directory")->required();
              auto* layer = sub.add_option("--layer", o->layer, "write this transformer layer's output (1-based) "
                                                                "instead of the final output");
              sub.add_flag("--all-layers", o->all_layers, "write every layer's output, one file each: <stem>.layerK.npy (K = 1..L)")->excludes(layer);
              sub.add_option("--format", o->format, "npy or pt")->check(CLI::IsMember({"npy", "pt"}))->capture_default_str();
              sub.add_flag("--logits", o->logits, "also write the CTC logits [T, V] (fine-tuned models)");
              sub.add_option("--threads", o->threads, "intra-op threads (0 = all cores; see docs/decoding.md)")->capture_default_str();
              w2v::cli::add_precision_option(sub, o->precision);
              return [o] { return run_extract(*o); };
            });
