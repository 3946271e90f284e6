// w2v labels: fairseq's libri_labels.py (.ltr letters and .wrd words for a manifest).
#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "cli/command.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "util/error.h"
#include "util/fs.h"

namespace {

W2V_COMMAND("labels", "write .ltr/.wrd label files (fairseq format) for a manifest from transcripts",
            [](CLI::App& sub) {
              auto tsv = std::make_shared<std::string>();
              auto src = std::make_shared<std::string>();
              auto out_dir = std::make_shared<std::string>();
              auto name = std::make_shared<std::string>();
              auto alphabet = std::make_shared<std::string>("ABCDEFGHIJKLMNOPQRSTUVWXYZ'");
              sub.add_option("manifest", *tsv, "manifest (e.g. DIR/train.tsv)")->required();
              sub.add_option("--transcripts", *src,
                             "LibriSpeech tree (*.trans.txt) or TSV of 'KEY<TAB>text' lines, KEY = the manifest's "
                             "relative path, the file name or the utterance id (file name without extension)")
                  ->required();
              sub.add_option("--output-dir", *out_dir, "directory for NAME.ltr / NAME.wrd (default: the manifest's)");
              sub.add_option("--output-name", *name, "file name stem (default: the manifest's, e.g. train)");
              sub.add_option("--alphabet", *alphabet, "characters allowed in transcripts besides the space")
                  ->capture_default_str();
              return [=] {
                const std::filesystem::path manifest_path(*tsv);
                const std::string dir = !out_dir->empty() ? *out_dir
                                        : manifest_path.has_parent_path() ? manifest_path.parent_path().string()
                                                                          : ".";
                const std::string stem = !name->empty() ? *name : manifest_path.stem().string();
                const w2v::data::Manifest manifest = w2v::data::Manifest::load(*tsv);
                const w2v::data::Transcripts transcripts = w2v::data::Transcripts::load(*src);
                std::ostringstream wrd, ltr;
                std::vector<std::string> problems;
                std::map<std::string, std::string> used;  // transcript key -> first entry that took it
                for (size_t i = 0; i < manifest.entries.size(); ++i) {
                  const std::string& path = manifest.entries[i].path;
                  const std::string where = fmt::format("{}:{}: {}", *tsv, i + 2, path);
                  try {
                    std::string key;
                    const std::string& text = transcripts.find(path, &key);
                    // An id or file name shared by two files (a/1.wav, b/1.wav) must not give both one text.
                    if (auto [it, fresh] = used.emplace(key, path); !fresh) {
                      problems.push_back(fmt::format("{}: transcript '{}' matches this file and {} too; key the "
                                                     "transcripts by relative path",
                                                     where, key, it->second));
                      continue;
                    }
                    const std::string bad = w2v::data::invalid_characters(text, *alphabet + " ");
                    if (!bad.empty()) {
                      problems.push_back(fmt::format("{}: characters outside the alphabet: '{}' in '{}'", where, bad, text));
                      continue;
                    }
                    wrd << text << '\n';
                    ltr << w2v::data::letters(text) << '\n';
                  } catch (const w2v::Error& e) {
                    problems.push_back(where + ": " + e.what());
                  }
                }
                for (const std::string& p : problems) fmt::print(stderr, "w2v: bad transcript: {}\n", p);
                if (!problems.empty())
                  throw w2v::file_error(*tsv, 0, fmt::format("{} entries without a usable transcript, listed above; "
                                                             "no labels written",
                                                             problems.size()));
                std::filesystem::create_directories(dir);
                w2v::write_file_atomic(dir + "/" + stem + ".wrd", wrd.str());
                w2v::write_file_atomic(dir + "/" + stem + ".ltr", ltr.str());
                fmt::print("{}/{}.{{ltr,wrd}}: {} lines\n", dir, stem, manifest.entries.size());
                return 0;
              };
            });

}  // namespace
