// w2v manifest: fairseq's wav2vec_manifest.py (NAME.tsv, and valid.tsv when asked, for an audio tree).
#include <fmt/core.h>

#include <filesystem>

#include "cli/command.h"
#include "data/manifest.h"
#include "util/error.h"

namespace {

W2V_COMMAND("manifest", "write NAME.tsv (and valid.tsv with --valid-percent) in fairseq's format for a directory of "
            "audio files",
            [](CLI::App& sub) {
              auto dir = std::make_shared<std::string>();
              auto dest = std::make_shared<std::string>();
              auto name = std::make_shared<std::string>("train");
              auto options = std::make_shared<w2v::data::ManifestOptions>();
              sub.add_option("root", *dir, "directory searched recursively for audio files")->required();
              sub.add_option("--dest", *dest, "output directory for NAME.tsv / valid.tsv")->required();
              sub.add_option("--name", *name, "name of the split written to DEST/NAME.tsv (e.g. train, test)")
                  ->capture_default_str();
              sub.add_option("--ext", options->ext, "audio file extensions, comma-separated (case-insensitive)")
                  ->capture_default_str();
              sub.add_option("--valid-percent", options->valid_percent,
                             "fraction of files drawn out of NAME.tsv into valid.tsv (fairseq's script: 0.01)")
                  ->capture_default_str()
                  ->check(CLI::Range(0.0, 1.0));
              sub.add_option("--seed", options->seed, "random seed of the split")->capture_default_str();
              sub.add_option("--path-must-contain", options->path_must_contain,
                             "keep only files whose absolute path contains this string");
              sub.add_flag("--verify", options->verify,
                           "decode every file to find truncated or corrupt audio (headers only otherwise)");
              return [=] {
                if (name->empty() || name->find_first_of("/\t\n\r") != std::string::npos)
                  throw w2v::Error("--name: expected a file stem (e.g. train, test), got '" + *name + "'");
                if (*name == "valid" && options->valid_percent > 0)
                  throw w2v::Error("--name valid: the --valid-percent split is written to valid.tsv; choose another "
                                   "name or --valid-percent 0");
                w2v::data::ManifestSplit split;
                try {
                  split = w2v::data::scan_audio_dir(*dir, *options);
                } catch (const w2v::Error& e) {  // the library names ManifestOptions::ext
                  const std::string m = e.what();
                  throw w2v::Error(m.compare(0, 4, "ext:") == 0 ? "--ext" + m.substr(3) : m);
                }
                for (const std::string& bad : split.bad_files) fmt::print(stderr, "w2v: bad audio: {}\n", bad);
                if (!split.bad_files.empty())
                  throw w2v::file_error(*dir, 0,
                                        fmt::format("{} unreadable audio file(s), listed above; no manifest written",
                                                    split.bad_files.size()));
                if (split.train.entries.empty() && split.valid.entries.empty())
                  throw w2v::file_error(*dir, 0,
                                        "no audio files with extension " + options->ext +
                                            " found below it (choose the extensions with --ext, e.g. --ext wav)");
                std::filesystem::create_directories(*dest);
                split.train.save(*dest + "/" + *name + ".tsv");
                // wav2vec_manifest.py writes valid.tsv only when a valid split was asked for.
                if (options->valid_percent > 0) {
                  split.valid.save(*dest + "/valid.tsv");
                  fmt::print("{}: {} files in {}.tsv, {} drawn into valid.tsv (--valid-percent {})\n", *dest,
                             split.train.entries.size(), *name, split.valid.entries.size(), options->valid_percent);
                } else {
                  fmt::print("{}: {} files in {}.tsv\n", *dest, split.train.entries.size(), *name);
                }
                return 0;
              };
            });

}  // namespace
