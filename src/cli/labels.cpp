// w2v labels: fairseq's libri_labels.py (.ltr letters and .wrd words for a manifest).
#include <fmt/core.h>

#include <filesystem>
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
              sub.add_option("tsv,--tsv", *tsv, "manifest (e.g. DIR/train.tsv)")->required();
              sub.add_option("--transcripts", *src,
                             "LibriSpeech tree (*.trans.txt) or TSV of 'relative/path<TAB>text' lines")
                  ->required();
              sub.add_option("--output-dir", *out_dir, "directory for NAME.ltr / NAME.wrd")->required();
              sub.add_option("--output-name", *name, "file name stem, e.g. train")->required();
              sub.add_option("--alphabet", *alphabet, "characters allowed in transcripts besides the space")
                  ->capture_default_str();
              return [=] {
                const w2v::data::Manifest manifest = w2v::data::Manifest::load(*tsv);
                const w2v::data::Transcripts transcripts = w2v::data::Transcripts::load(*src);
                std::ostringstream wrd, ltr;
                std::vector<std::string> problems;
                for (size_t i = 0; i < manifest.entries.size(); ++i) {
                  const std::string where = fmt::format("{}:{}: {}", *tsv, i + 2, manifest.entries[i].path);
                  try {
                    const std::string& text = transcripts.find(manifest.entries[i].path);
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
                std::filesystem::create_directories(*out_dir);
                w2v::write_file_atomic(*out_dir + "/" + *name + ".wrd", wrd.str());
                w2v::write_file_atomic(*out_dir + "/" + *name + ".ltr", ltr.str());
                fmt::print("{}/{}.{{ltr,wrd}}: {} lines\n", *out_dir, *name, manifest.entries.size());
                return 0;
              };
            });

}  // namespace
