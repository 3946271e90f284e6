// w2v extract CKPT AUDIO... -o DIR: wav2vec 2.0 representations of audio files, named after the
// input's stem: <stem>.npy (or <stem>.pt) holding the context network output [T, D] or one
// layer's output (--layer N, 1-based); with --all-layers one file per layer, <stem>.layerK.npy
// (K = 1..L, as HF's hidden_states[K]); with --logits (CTC models) also the CTC logits [T, V]
// (<stem>.logits.npy, key "logits" in a single .pt, or <stem>.logits.pt beside per-layer .pt files).
#include <fmt/core.h>

#include <filesystem>
#include <map>

#include "audio/audio.h"
#include "checkpoint/model_io.h"
#include "checkpoint/torch_file.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "model/npy.h"
#include "model/precision.h"
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
  auto m = ckpt::load_model(o.checkpoint);
  const bool ctc = m.kind == ckpt::ModelKind::kCtc;
  if (o.logits && !ctc) throw Error(o.checkpoint + ": --logits needs a fine-tuned (CTC) checkpoint");
  if (o.layer < 0 || o.layer > m.config.encoder_layers)
    throw Error(fmt::format("--layer {}: the model has layers 1..{}", o.layer, m.config.encoder_layers));
  m.module().eval();
  auto encoder = m.encoder();
  encoder->prepare(model::parse_precision(o.precision));  // the CTC head (--logits) stays fp32
  fs::create_directories(o.out_dir);
  torch::NoGradGuard no_grad;

  for (const auto& path : o.audio) {
    audio::ReadOptions ro;
    ro.normalize = m.config.normalize;
    ro.resample = true;  // any rate, as transcribe reads it
    auto samples = audio::read(path, ro);
    if (encoder->output_length(static_cast<int64_t>(samples.size())) < 1)
      throw Error(fmt::format("{}: {} samples is shorter than the feature encoder's receptive field", path, samples.size()));
    auto source = torch::from_blob(samples.data(), {1, static_cast<int64_t>(samples.size())}, torch::kFloat).clone();
    // One forward serves every output: the logits are the CTC head on the final output, so
    // with --logits the network runs to the end and a chosen layer is read on the way.
    const bool to_end = o.all_layers || o.layer == 0 || o.logits;
    auto f = encoder->extract_features(source, {}, {}, {}, to_end ? -1 : o.layer - 1);
    // (file name suffix, [T, D] features) pairs: the one output, or every layer's.
    std::vector<std::pair<std::string, torch::Tensor>> outputs;
    if (o.all_layers) {
      for (size_t k = 0; k < f.layer_results.size(); ++k)
        outputs.emplace_back(fmt::format(".layer{}", k + 1), f.layer_results[k].select(0, 0));
    } else {
      outputs.emplace_back("", (o.layer == 0 ? f.x : f.layer_results.at(o.layer - 1)).select(0, 0));
    }
    torch::Tensor logits;
    // Wav2VecEncoder::forward's head (final_dropout is the identity in eval): [T, V].
    if (o.logits) logits = m.ctc->w2v_encoder->head(f.x.select(0, 0));

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
    fmt::print("{}: {} samples -> {} frames\n", path, samples.size(), outputs[0].second.size(0));
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
