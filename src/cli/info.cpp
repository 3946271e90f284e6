// w2v info CKPT: what a checkpoint holds - format, model kind, architecture, parameter counts,
// and the memory its weights take prepared for inference at each --precision.
#include <fmt/core.h>

#include "checkpoint/model_io.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "model/cpu_runtime.h"
#include "model/precision.h"
#include "model/onednn.h"

namespace {

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

int run_info(const std::string& path) {
  using namespace w2v;
  auto m = ckpt::load_model(path);
  const auto& c = m.config;
  auto encoder = m.encoder();
  const bool ctc = m.kind == ckpt::ModelKind::kCtc;
  fmt::print("file: {}\nformat: {}\nkind: {}\n", path, m.format, ctc ? "wav2vec_ctc (fine-tuned)" : "wav2vec2 (pre-training)");
  std::string conv;
  for (const auto& l : c.conv_layers()) conv += fmt::format("({},{},{})", l.dim, l.kernel, l.stride);
  fmt::print("feature encoder: {} mode, conv_bias {}, layers {}, {} frames per second of 16 kHz audio\n",
             c.extractor_mode, c.conv_bias, conv, encoder->output_length(16000 * 100) / 100.0);
  fmt::print("transformer: {} layers, dim {}, ffn {}, heads {}, {}, pos_conv {}/{} groups\n", c.encoder_layers,
             c.encoder_embed_dim, c.encoder_ffn_embed_dim, c.encoder_attention_heads,
             c.layer_norm_first ? "pre-LN" : "post-LN", c.conv_pos, c.conv_pos_groups);
  fmt::print("normalize waveform: {}\n", c.normalize);
  if (!ctc && encoder->quantizer)
    fmt::print("quantizer: {} groups x {} codewords, dim {}, final_dim {}, latent_temp ({}, {}, {})\n", c.latent_groups,
               c.latent_vars, c.vq_dim(), c.effective_final_dim(), c.latent_temp[0], c.latent_temp[1], c.latent_temp[2]);
  if (ctc) {
    fmt::print("ctc outputs: {}", m.ctc->vocab_size());
    if (m.dictionary) fmt::print(" (dictionary of {} symbols)", m.dictionary->size());
    fmt::print("\n");
  }
  fmt::print("parameters: {} ({:.2f} M): feature_extractor {:.2f} M, transformer {:.2f} M\n", count(m.module()),
             count(m.module()) / 1e6, count(*encoder->feature_extractor) / 1e6, count(*encoder->encoder) / 1e6);
  // What infer/transcribe/extract --precision hold in memory (the CTC head and norms stay fp32).
  m.module().eval();
  std::string sizes;
  for (auto p : {model::Precision::kFp32, model::Precision::kBf16, model::Precision::kInt8}) {
    encoder->prepare(p);
    sizes += fmt::format("{}{} {:.1f} MB", sizes.empty() ? "" : ", ", model::precision_name(p),
                         encoder->prepared_bytes() / 1e6);
  }
  const auto cpu = model::cpu_kernels();
  const auto& runtime = model::tune_cpu_runtime();
  fmt::print("precision: parameters fp32 in memory; inference weights {} (this CPU: bf16 {}, int8 {}; fp32 "
             "products {}, OpenBLAS {}, tensor cache {} MiB)\n",
             sizes, cpu.bf16 ? "avx512_bf16" : "fallback", cpu.int8 ? "avx512_vnni" : "fallback", model::kernel_backend(),
             runtime.blas_core.empty() ? "-" : runtime.blas_core, runtime.cache_limit >> 20);
  return 0;
}

}  // namespace

W2V_COMMAND("info", std::string(w2v::cli::model_command_description("info")), [](CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  sub.add_option("MODEL", *path, "fairseq/w2v .pt file or HuggingFace directory")->required();
  return [path] { return run_info(*path); };
});
