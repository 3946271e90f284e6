// Subcommand registry of the w2v binary. Each src/cli/<name>.cpp defines one subcommand and
// registers it with a static W2V_COMMAND(...) object; main() builds the CLI11 app from the
// registry, so adding a subcommand touches only its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace w2v::cli {

struct Command {
  std::string name;
  std::string description;
  // Adds options to `sub` and returns the action to run when the subcommand is chosen.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<Command>& registry();

struct Registrar {
  explicit Registrar(Command c) { registry().push_back(std::move(c)); }
};

// A --threads value (0 = all cores, else 1..256; anything else is an Error) as a count.
int resolve_threads(int threads);

// Only in w2v-model (model commands, cli/model_commands.h):
// sets LibTorch's intra-op thread count (as resolve_threads) and returns the count in use;
int set_threads(int threads);
// --precision fp32|bf16|int8 (model/precision.h; docs/inference.md) into `value`.
CLI::Option* add_precision_option(CLI::App& sub, std::string& value);

}  // namespace w2v::cli

#define W2V_CLI_CONCAT2(a, b) a##b
#define W2V_CLI_CONCAT(a, b) W2V_CLI_CONCAT2(a, b)
#define W2V_COMMAND(...) \
  static ::w2v::cli::Registrar W2V_CLI_CONCAT(w2v_registrar_, __LINE__)(::w2v::cli::Command{__VA_ARGS__})
