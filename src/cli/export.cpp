// w2v export model.pt --format hf|fairseq -o OUT: writes a model for other toolkits. "hf" is a
// HuggingFace transformers directory (config.json, pytorch_model.bin, preprocessor_config.json,
// vocab.json); "fairseq" a fairseq hydra-layout checkpoint, optionally with its dict.ltr.txt.
#include <fmt/core.h>

#include "checkpoint/huggingface.h"
#include "checkpoint/model_io.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "util/error.h"

namespace {

W2V_COMMAND("export", std::string(w2v::cli::model_command_description("export")), [](CLI::App& sub) {
  struct Options {
    std::string model, format, out, dict, dict_out;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("MODEL", o->model, "w2v/fairseq checkpoint or HuggingFace directory")
      ->required()
      ->check(CLI::ExistingPath);
  sub.add_option("--format", o->format, "hf (HuggingFace directory) or fairseq (.pt file)")
      ->required()
      ->check(CLI::IsMember({"hf", "fairseq"}));
  sub.add_option("-o,--output", o->out, "directory (hf) or file (fairseq) to write")->required();
  sub.add_option("--dict", o->dict, "fairseq dictionary of the CTC outputs (overrides the model's)")
      ->check(CLI::ExistingFile);
  sub.add_option("--dict-out", o->dict_out, "fairseq: also write the dictionary (dict.ltr.txt format) here");
  return [o] {
    w2v::ckpt::LoadedModel m = w2v::ckpt::load_model(o->model, {o->dict});
    if (o->format == "hf") {
      if (!o->dict_out.empty()) throw w2v::Error("--dict-out: only for --format fairseq (hf writes vocab.json)");
      w2v::ckpt::save_huggingface(o->out, m);
    } else {
      w2v::ckpt::save_model(o->out, m);
      if (!o->dict_out.empty()) {
        if (!m.dictionary) throw w2v::Error(o->model + ": no dictionary to write to " + o->dict_out);
        m.dictionary->save(o->dict_out);
      }
    }
    fmt::print("{} -> {} ({})\n", o->model, o->out, o->format == "hf" ? "HuggingFace directory" : "fairseq checkpoint");
    return 0;
  };
});

}  // namespace
