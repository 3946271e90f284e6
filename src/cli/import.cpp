// w2v import SRC -o model.pt: converts a fairseq checkpoint (2020 args or hydra cfg, pre-trained
// or fine-tuned) or a HuggingFace directory into a w2v checkpoint (fairseq's hydra layout with
// the dictionary inside).
#include <fmt/core.h>

#include "checkpoint/model_io.h"
#include "cli/command.h"
#include "cli/model_commands.h"

namespace {

W2V_COMMAND("import", std::string(w2v::cli::model_command_description("import")), [](CLI::App& sub) {
  struct Options {
    std::string src, out, dict;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("MODEL", o->src, "fairseq .pt file or HuggingFace directory (config.json + weights)")
      ->required()
      ->check(CLI::ExistingPath);
  sub.add_option("-o,--output", o->out, "w2v checkpoint to write")->required();
  sub.add_option("--dict", o->dict,
                 "fairseq dictionary (dict.ltr.txt) of the CTC outputs; default: the one in SRC, else the "
                 "LibriSpeech letters for 32-output models")
      ->check(CLI::ExistingFile);
  return [o] {
    w2v::ckpt::LoadedModel m = w2v::ckpt::load_model(o->src, {o->dict});
    w2v::ckpt::save_model(o->out, m);
    int64_t params = 0;
    for (const auto& p : m.module().parameters()) params += p.numel();
    fmt::print("{}: {} {} model from {}, {} layers x {} dims, {:.2f} M parameters{} -> {}\n", o->src,
               m.kind == w2v::ckpt::ModelKind::kCtc ? "fine-tuned (wav2vec_ctc)" : "pre-trained (wav2vec2)",
               m.config.layer_norm_first ? "pre-LN" : "post-LN", m.format, m.config.encoder_layers,
               m.config.encoder_embed_dim, static_cast<double>(params) / 1e6,
               m.dictionary ? fmt::format(", {} output symbols", m.dictionary->size()) : std::string(), o->out);
    return 0;
  };
});

}  // namespace
