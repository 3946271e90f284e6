// The command-line runner both executables share (w2v and w2v-model, see model_commands.h):
// builds the CLI11 app from the subcommand registry, parses, runs the chosen subcommand, and maps
// the outcome to one exit code: 0 done, 2 usage error, 1 w2v::Error (one line on stderr) or any
// other exception (one line, "internal error").
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace w2v::cli {

// A subcommand w2v lists in its --help but another executable runs.
struct CommandSummary {
  std::string_view name, description;
};

// `listed` are shown in --help and count as known commands, but have no options here: the caller
// hands them off before calling run_cli. `describe` may turn a library's exception into a better
// one-line message (e.g. without a stack trace); by default what() is used.
int run_cli(int argc, char** argv, const std::vector<CommandSummary>& listed,
            const std::function<std::string(const std::exception&)>& describe = {});

}  // namespace w2v::cli
