// `w2v train --config FILE [section.key=value ...]`: fairseq-style pre-training or CTC
// fine-tuning; JSON log lines on stdout, checkpoints in checkpoint.save_dir.
#include <iostream>

#include "cli/command.h"
#include "config/config.h"
#include "train/trainer.h"

W2V_COMMAND("train", "pre-train (wav2vec2) or fine-tune (wav2vec_ctc) from a fairseq YAML config",
            [](CLI::App& sub) {
              auto config = std::make_shared<std::string>();
              auto overrides = std::make_shared<std::vector<std::string>>();
              auto threads = std::make_shared<int>(0);
              sub.add_option("--config", *config, "fairseq YAML config (configs/...)")->required();
              sub.add_option("--threads", *threads, "intra-op threads (0 = all cores)");
              sub.add_option("overrides", *overrides, "section.key=value overrides (YAML values)");
              return [=] {
                w2v::cli::set_threads(*threads);
                auto cfg = w2v::config::Config::load(*config, *overrides);
                w2v::train::Trainer trainer(cfg, std::cout);
                auto s = trainer.train();
                std::cerr << "train: " << s.num_updates << " updates, " << s.skipped_updates
                          << " skipped\n";
                return 0;
              };
            });
