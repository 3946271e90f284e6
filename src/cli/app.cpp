#include "cli/app.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "util/error.h"

namespace w2v::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

constexpr int kMaxThreads = 256;

std::string threads_problem(const std::string& value) {
  long long n = -1;
  size_t used = 0;
  try {
    n = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || n < 0 || n > kMaxThreads)
    return fmt::format("--threads: expected 0 (all cores) or 1 to {}, got '{}'", kMaxThreads, value);
  return "";
}

// Every command's --threads gets the same check at parse time (usage error, exit 2): an absurd
// count (1e9, negative) made LibTorch start threads without end or fall back silently.
void check_threads_options(CLI::App* app) {
  static const CLI::Validator kThreads(
      [](std::string& value) {
        std::string problem = threads_problem(value);
        return problem.empty() ? problem : problem.substr(problem.find(": ") + 2);
      },
      "0.." + std::to_string(kMaxThreads));
  if (CLI::Option* threads = app->get_option_no_throw("--threads")) threads->check(kThreads);
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) check_threads_options(sub);
}

}  // namespace

int resolve_threads(int threads) {
  if (const std::string problem = threads_problem(std::to_string(threads)); !problem.empty()) throw Error(problem);
  return threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : threads;
}

int run_cli(int argc, char** argv, const std::vector<CommandSummary>& listed,
            const std::function<std::string(const std::exception&)>& describe) {
  CLI::App app{"w2v: wav2vec 2.0 speech recognition - data, pretraining, CTC fine-tuning, n-gram LM, "
               "decoding, checkpoint import/export - in one binary"};
  app.name("w2v");
  app.set_version_flag("--version", std::string("w2v ") + W2V_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> names;
  std::function<int()> action;
  auto& commands = registry();
  for (const auto& command : commands) names.push_back(command.name);
  for (const auto& command : listed) names.emplace_back(command.name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto own = std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.name == name; });
    if (own == commands.end()) {
      auto other = std::find_if(listed.begin(), listed.end(), [&](const auto& c) { return c.name == name; });
      app.add_subcommand(name, std::string(other->description));
      continue;
    }
    CLI::App* sub = app.add_subcommand(own->name, own->description);
    auto run = std::make_shared<std::function<int()>>(own->setup(*sub));
    sub->callback([run, &action] { action = *run; });
  }
  check_threads_options(&app);

  // CLI11 reports an unknown first word as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-' && !std::binary_search(names.begin(), names.end(), std::string(argv[1]))) {
    fmt::print(stderr, "w2v: unknown command '{}'; run 'w2v --help' for the list\n", argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 uses exit code 0 for --help/--version; every usage error exits 2.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return action ? action() : 0;
  } catch (const w2v::Error& e) {
    fmt::print(stderr, "w2v: error: {}\n", e.what());
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that the system refuses (too long, no permission) is their error, not ours.
    const std::string path = e.path1().empty() ? "" : e.path1().string() + ": ";
    fmt::print(stderr, "w2v: error: {}{}\n", path, e.code().message());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "w2v: internal error: {}\n", describe ? describe(e) : std::string(e.what()));
    return 1;
  }
}

}  // namespace w2v::cli
