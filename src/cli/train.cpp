// `w2v train --config FILE [section.key=value ...]`: fairseq-style pre-training or CTC
// fine-tuning; JSON log lines on stdout, checkpoints in checkpoint.save_dir.
// distributed_training.distributed_world_size = N > 1 starts N worker processes (Gloo over
// loopback) when the machine has at least N cores; beyond that one process accumulates N x
// update_freq batches per update, which gives the same gradient.
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "config/config.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace {

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  return args;
}

}  // namespace

W2V_COMMAND("train", "pre-train (wav2vec2) or fine-tune (wav2vec_ctc) from a fairseq YAML config",
            [](CLI::App& sub) {
              auto config = std::make_shared<std::string>();
              auto overrides = std::make_shared<std::vector<std::string>>();
              auto threads = std::make_shared<int>(0);
              sub.add_option("--config", *config, "fairseq YAML config (configs/...)")->required();
              sub.add_option("--threads", *threads, "intra-op threads per process (0 = cores / processes)");
              sub.add_option("overrides", *overrides, "section.key=value overrides (YAML values)");
              return [=] {
                auto cfg = w2v::config::Config::load(*config, *overrides);
                const int64_t world = cfg.integer("distributed_training.distributed_world_size");
                const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
                const bool spawn = world > 1 && world <= cores;
                if (spawn && !std::getenv("RANK"))
                  return w2v::train::spawn_workers(own_command_line(), static_cast<int>(world),
                                                   static_cast<int>(cfg.integer("distributed_training.distributed_port")));
                w2v::cli::set_threads(*threads > 0 ? *threads : (spawn ? static_cast<int>(std::max<int64_t>(1, cores / world)) : 0));
                w2v::train::Trainer trainer(cfg, std::cout);
                auto s = trainer.train();
                if (!std::getenv("RANK") || std::string(std::getenv("RANK")) == "0")
                  std::cerr << "train: " << s.num_updates << " updates, " << s.skipped_updates << " skipped\n";
                return 0;
              };
            });
