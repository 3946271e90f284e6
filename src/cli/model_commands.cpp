#include "cli/model_commands.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace w2v::cli {

const std::vector<CommandSummary>& model_commands() {
  static const std::vector<CommandSummary> commands = {
      {"align", "Forced alignment: put a known transcript on the audio, word by word and letter by letter"},
      {"export", "Write a model as a HuggingFace directory or a fairseq checkpoint"},
      {"extract", "write wav2vec 2.0 features (and CTC logits) of audio files as .npy or .pt"},
      {"import", "Convert a fairseq checkpoint or HuggingFace directory into a w2v checkpoint"},
      {"infer", "Decode a manifest split with a fine-tuned model (fairseq infer.py): WER, speed, hypo/ref files"},
      {"info", "show a checkpoint's format, architecture and parameter count"},
      {"pseudo-label", "Label unlabeled audio with a model (self-training): keeps confident hypotheses as a training split"},
      {"serve", "HTTP transcription server: OpenAI-compatible API, streaming, a browser page"},
      {"train", "pre-train (wav2vec2) or fine-tune (wav2vec_ctc) from a fairseq YAML config"},
      {"transcribe", "Transcribe audio files of any length, or live audio from stdin (text, JSON or SRT)"},
  };
  return commands;
}

std::string_view model_command_description(std::string_view name) {
  for (const auto& command : model_commands())
    if (command.name == name) return command.description;
  fmt::print(stderr, "w2v: command '{}' is missing from cli/model_commands.cpp\n", name);
  std::abort();
}

int exec_model_binary(char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string path = ((ec ? std::filesystem::path(argv[0]) : self).parent_path() / "w2v-model").string();
  execv(path.c_str(), argv);
  fmt::print(stderr, "w2v: error: '{}' runs in {}, which cannot be started: {}\n", argv[1], path, std::strerror(errno));
  return 1;
}

}  // namespace w2v::cli
