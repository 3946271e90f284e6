// The subcommands that run a model, and how w2v hands them off. LibTorch takes about 0.5 CPU s
// and 170 MB to load, so w2v itself does not link it: the commands below live in a second
// executable, w2v-model, installed beside w2v, which w2v execs (same pid, arguments, stdio and
// exit code). Every other command (lm, lexicon, wer, manifest ...) starts in milliseconds.
#pragma once

#include <string_view>
#include <vector>

#include "cli/app.h"

namespace w2v::cli {

// Name and --help line of each model command (w2v-model registers exactly these).
const std::vector<CommandSummary>& model_commands();
// The description of model command `name`; aborts the program when `name` is not in the table,
// a programming error found on the first run.
std::string_view model_command_description(std::string_view name);

// Replaces this process with w2v-model from w2v's own directory, same arguments. Returns only on
// failure, after printing one line naming the path it tried, with exit code 1.
int exec_model_binary(char** argv);

}  // namespace w2v::cli
