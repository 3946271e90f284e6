// w2v pseudo-label [MODEL] DATA_DIR --subset SPLIT -o OUT_DIR: self-training's labelling step
// (Xu et al. 2021): decodes an unlabeled split, keeps the confident non-empty hypotheses as a
// fairseq training split (NAME.tsv/.wrd/.ltr) and lists every utterance in NAME.confidence.tsv.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "cli/model_commands.h"
#include "cli/split_emissions.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/decoder.h"
#include "decode/transcript_format.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

using namespace w2v;
namespace fs = std::filesystem;

struct Options {
  cli::EmissionSource source;  // [MODEL] DATA_DIR and the model's flags
  std::string subset = "train", out_dir, name;
  double min_confidence = 0;
  cli::DecoderOptions decoding;
};

// How sure the model is of the hypothesis: exp(mean log posterior of the best path's token over
// all frames, blanks included), in (0, 1]. Unlike a word's confidence (decode/result.h) the blank
// frames count: where the model hesitates between blank and a letter a word may be missing, and
// on a trained model's unlabeled split this ranked the utterances by WER best of the measures
// tried (docs/decoding.md, Pseudo-labels).
double utterance_confidence(const decode::DecodeResult& best, const decode::Emissions& e) {
  const auto lse = decode::log_partition(e);
  const int frames = std::min(e.frames, static_cast<int>(best.path.size()));
  double sum = 0;
  for (int t = 0; t < frames; ++t) sum += e.at(t, best.path[t]) - lse[t];
  return frames > 0 ? std::exp(sum / frames) : 0.0;
}

// A hypothesis can be a training label only if it is not empty and every letter is a unit of the
// model (a lexicon decoder's <unk> word is not).
bool usable(const std::string& text, const std::set<std::string>& units) {
  if (text.empty()) return false;
  for (char c : text)
    if (c != ' ' && !units.count(std::string(1, c))) return false;
  return true;
}

// Throws if writing `out` would replace `in` (the same directory entry; a rename never touches
// the file behind another link to it).
void check_not_input(const fs::path& out, const fs::path& in) {
  std::error_code ec;
  if (out.filename() == in.filename() && fs::equivalent(out.parent_path(), in.parent_path(), ec))
    throw Error(fmt::format("-o {}: would overwrite the input {}; write the pseudo-labels to another directory or "
                            "give --output-name",
                            out.parent_path().string(), in.string()));
}

std::string mean_or_dash(double sum, size_t n) { return n ? fmt::format("{:.3f}", sum / n) : "-"; }

int run(const Options& o) {
  const fs::path data(o.source.data), out(o.out_dir);
  const std::string name = o.name.empty() ? o.subset : o.name;
  const fs::path tsv = data / (o.subset + ".tsv"), dict = data / "dict.ltr.txt";
  if (o.decoding.post_process != "letter")
    throw Error("option --post-process: pseudo-label writes letter labels (.ltr), so the units must be letters");
  const auto manifest = data::Manifest::load(tsv.string());

  // Everything that can fail before the (long) model run does.
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw Error(fmt::format("-o {}: cannot create the output directory: {}", out.string(),
                            ec ? ec.message() : "a file of that name exists"));
  const std::vector<std::string> outputs = {name + ".tsv", name + ".wrd", name + ".ltr", name + ".confidence.tsv"};
  for (const auto& file : outputs)
    for (const char* ext : {".tsv", ".wrd", ".ltr"}) check_not_input(out / file, data / (o.subset + ext));
  const int threads = cli::set_threads(o.source.threads);
  const cli::SplitEmissions acoustic(o.source, dict.string(), o.decoding);
  const auto& factory = acoustic.decoders();
  const auto emissions = acoustic.compute(manifest, tsv.string());
  const auto views = cli::emission_views(emissions);
  std::vector<std::vector<decode::DecodeResult>> results;
  {
    Progress bar("decode", static_cast<int64_t>(views.size()), 0, "utt/s");
    results = decode::decode_all(factory, views, threads, [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  }

  const std::set<std::string> units(acoustic.symbols().begin(), acoustic.symbols().end());
  data::Manifest kept{manifest.root, {}};
  std::string wrd, ltr, table = "path\tconfidence\tkept\thypothesis\n";
  double kept_sum = 0, dropped_sum = 0, kept_samples = 0, all_samples = 0;
  size_t empty = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& best = results[i].at(0);
    const auto& entry = manifest.entries[i];
    const std::string text = best.text();
    const double confidence = utterance_confidence(best, views[i]);
    const bool keep = usable(text, units) && confidence >= o.min_confidence;
    all_samples += static_cast<double>(entry.num_samples);
    if (keep) {
      kept.entries.push_back(entry);
      wrd += text + "\n";
      ltr += data::letters(text) + "\n";
      kept_sum += confidence;
      kept_samples += static_cast<double>(entry.num_samples);
    } else if (text.empty()) {
      ++empty;  // its confidence is the blank's, which says nothing about words: not in the means
    } else {
      dropped_sum += confidence;
    }
    table += fmt::format("{}\t{:.4f}\t{}\t{}\n", decode::backslash_escape(entry.path), confidence, keep ? 1 : 0, text);
  }
  kept.save((out / (name + ".tsv")).string());
  write_file_atomic((out / (name + ".wrd")).string(), wrd);
  write_file_atomic((out / (name + ".ltr")).string(), ltr);
  write_file_atomic((out / (name + ".confidence.tsv")).string(), table);
  // The training split needs the model's dictionary beside it; an existing one is left alone.
  if (fs::is_regular_file(dict) && !fs::exists(out / "dict.ltr.txt"))
    write_file_atomic((out / "dict.ltr.txt").string(), read_file(dict.string()));

  const size_t n = kept.entries.size(), m = manifest.entries.size();
  fmt::print("| pseudo-label {} -> {}: kept {} of {} utterances ({:.1f} of {:.1f} minutes of audio) at "
             "--min-confidence {:g}; mean confidence {} kept, {} dropped (not counting {} empty)\n",
             o.subset, (out / (name + ".tsv")).string(), n, m, kept_samples / 16000.0 / 60.0,
             all_samples / 16000.0 / 60.0, o.min_confidence, mean_or_dash(kept_sum, n), mean_or_dash(dropped_sum, m - n - empty), empty);
  return 0;
}

W2V_COMMAND("pseudo-label", std::string(cli::model_command_description("pseudo-label")), [](CLI::App& sub) {
  auto o = std::make_shared<Options>();
  cli::add_emission_options(sub, o->source,
                            "the directory with {subset}.tsv (no labels needed; dict.ltr.txt, if there, is checked "
                            "against the model's units and copied to OUT_DIR)");
  sub.add_option("--subset", o->subset, "split to label")->capture_default_str();
  sub.add_option("-o,--output-dir", o->out_dir, "where NAME.tsv/.wrd/.ltr/.confidence.tsv go (not DATA_DIR's own "
                                                "{subset} files)")
      ->required();
  sub.add_option("--output-name", o->name, "file name stem of the outputs (default: the subset)");
  sub.add_option("--min-confidence", o->min_confidence,
                 "keep utterances whose confidence (exp of the mean log posterior of the best path over all "
                 "frames, in (0, 1]) is at least this; empty hypotheses are never kept")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cli::add_decoder_options(sub, o->decoding);
  return [o] {
    cli::resolve_emission_source(o->source, "pseudo-label");
    return run(*o);
  };
});

}  // namespace
