// Entry point of w2v-model, the executable behind w2v's model commands (cli/model_commands.h):
// the same runner as w2v, plus what only LibTorch users need (threads, precision, c10 errors).
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <fmt/core.h>

#include <algorithm>

#include "cli/app.h"
#include "cli/command.h"
#include "cli/model_commands.h"
#include "model/cpu_runtime.h"

namespace w2v::cli {

int set_threads(int threads) {
  at::set_num_threads(resolve_threads(threads));
  return at::get_num_threads();
}

CLI::Option* add_precision_option(CLI::App& sub, std::string& value) {
  return sub
      .add_option("--precision", value,
                  "model arithmetic: fp32, bf16 or int8 (bf16/int8: faster, slightly less accurate; "
                  "docs/inference.md)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
}

}  // namespace w2v::cli

int main(int argc, char** argv) {
  // Every command w2v hands over must be here (registration already checks the other way).
  for (const auto& listed : w2v::cli::model_commands()) {
    const auto& own = w2v::cli::registry();
    if (std::none_of(own.begin(), own.end(), [&](const auto& c) { return c.name == listed.name; })) {
      fmt::print(stderr, "w2v-model: command '{}' is listed but not built in\n", listed.name);
      return 1;
    }
  }
  w2v::model::tune_cpu_runtime();
  return w2v::cli::run_cli(argc, argv, {}, [](const std::exception& e) {
    // c10's what() carries a C++ stack trace: the user gets the message's first line.
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    const std::string m = c10_error ? c10_error->what_without_backtrace() : e.what();
    return m.substr(0, m.find('\n'));
  });
}
