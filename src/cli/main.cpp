// Entry point of w2v: the torch-free commands run here; a model command is handed to w2v-model
// (cli/model_commands.h) before anything is parsed, so `w2v lm query` never loads LibTorch.
#include "cli/app.h"
#include "cli/model_commands.h"

int main(int argc, char** argv) {
  if (argc > 1)
    for (const auto& command : w2v::cli::model_commands())
      if (command.name == argv[1]) return w2v::cli::exec_model_binary(argv);
  return w2v::cli::run_cli(argc, argv, w2v::cli::model_commands());
}
