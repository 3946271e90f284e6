// w2v infer [MODEL] DATA_DIR: fairseq's examples/speech_recognition/infer.py, native, as flag
// parsing over the recognizer library (cli/split_emissions.h). Decodes a manifest split
// (DATA_DIR/{subset}.tsv with {subset}.{labels} references), reports WER and UER, speed, and
// writes fairseq's hypo/ref files. Progress bars on stderr when it is a terminal.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "cli/command.h"
#include "cli/model_commands.h"
#include "cli/decode_options.h"
#include "cli/split_emissions.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/decoder.h"
#include "eval/scoring.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

struct InferOptions {
  w2v::cli::EmissionSource source;  // [MODEL] DATA_DIR and the model's flags
  std::string subset = "test", labels = "ltr", results_path;
  w2v::cli::DecoderOptions decoding;
};

// Hypothesis units as fairseq's hypo.units shows them, minus the leading silence every beam
// hypothesis starts from (reference label lines never begin with one).
std::string join_symbols(const std::vector<int>& ids, const w2v::decode::TokenSet& tokens) {
  std::string s;
  size_t first = 0;
  while (first < ids.size() && ids[first] == tokens.silence()) ++first;
  for (size_t i = first; i < ids.size(); ++i) {
    const int id = ids[i];
    if (tokens.is_special(id)) continue;
    if (!s.empty()) s += ' ';
    s += tokens.symbol(id);
  }
  return s;
}

// A reference unit the model cannot output is always an error in the hypothesis: say so once.
void warn_unknown_units(const std::vector<std::string>& references, const std::vector<std::string>& symbols,
                        const std::string& label_path) {
  std::map<std::string, int64_t> unknown;
  const std::set<std::string> known(symbols.begin(), symbols.end());
  for (const auto& line : references) {
    std::istringstream words(line);
    for (std::string unit; words >> unit;)
      if (!known.count(unit)) ++unknown[unit];
  }
  if (unknown.empty()) return;
  std::string list;
  for (const auto& [unit, count] : unknown) list += fmt::format("{}'{}' ({}x)", list.empty() ? "" : ", ", unit, count);
  fmt::print(stderr, "warning: {}: reference units the model cannot output (scored as errors): {}\n", label_path, list);
}

int run_infer(const InferOptions& o) {
  namespace fs = std::filesystem;
  using namespace w2v;
  const fs::path dir(o.source.data);
  const std::string tsv = (dir / (o.subset + ".tsv")).string(), label_path = (dir / (o.subset + "." + o.labels)).string();
  const auto manifest = data::Manifest::load(tsv);
  const auto references = data::read_labels(label_path);
  if (references.size() != manifest.entries.size())
    throw file_error(label_path, static_cast<long>(std::min(references.size(), manifest.entries.size()) + 1),
                     fmt::format("expected one label line per manifest entry ({} in {}), got {}", manifest.entries.size(),
                                 tsv, references.size()));
  const int threads = cli::set_threads(o.source.threads);
  const auto& d = o.decoding;
  const cli::SplitEmissions acoustic(o.source, (dir / ("dict." + o.labels + ".txt")).string(), d);
  warn_unknown_units(references, acoustic.symbols(), label_path);

  const auto& factory = acoustic.decoders();
  const auto post_process = decode::parse_post_process(d.post_process);
  auto start = std::chrono::steady_clock::now();
  const auto emissions = acoustic.compute(manifest, tsv);
  const auto views = cli::emission_views(emissions);
  auto decode_start = std::chrono::steady_clock::now();
  std::vector<std::vector<decode::DecodeResult>> results;
  {
    Progress bar("decode", static_cast<int64_t>(views.size()), 0, "utt/s");
    results = decode::decode_all(factory, views, threads, [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  }
  auto end = std::chrono::steady_clock::now();

  eval::Scorer words, units;
  std::string hypo_word, ref_word, hypo_units, ref_units, nbest;
  double audio_seconds = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string id = fmt::format("None-{}", i);
    const auto& best = results[i].at(0);
    const std::string ref_text = decode::post_process(references[i], post_process);
    const std::string hyp_units_text = join_symbols(best.tokens, factory.tokens());
    words.add(id, ref_text, best.text());
    units.add(id, references[i], hyp_units_text);
    hypo_word += fmt::format("{} ({})\n", best.text(), id);
    ref_word += fmt::format("{} ({})\n", ref_text, id);
    hypo_units += fmt::format("{} ({})\n", hyp_units_text, id);
    ref_units += fmt::format("{} ({})\n", references[i], id);
    for (size_t r = 0; r < results[i].size(); ++r)
      nbest += fmt::format("{}\t{:.4f}\t{} ({})\n", r, results[i][r].score, results[i][r].text(), id);
    audio_seconds += static_cast<double>(manifest.entries[i].num_samples) / 16000.0;
  }
  const double total = std::chrono::duration<double>(end - start).count();
  const double decoding = std::chrono::duration<double>(end - decode_start).count();
  fmt::print("| Processed {} sentences ({:.1f} s of audio) in {:.2f} s ({:.2f} sentences/s, {:.1f} x-realtime; "
             "decoding alone {:.2f} s, {:.1f} x-realtime) with {} thread(s)\n",
             results.size(), audio_seconds, total, results.size() / total, audio_seconds / total, decoding,
             audio_seconds / decoding, threads);
  fmt::print("| Generate {} with decoder={} beam={}: WER: {:.2f} % ({} / {} words), UER: {:.2f} % ({} / {} units)\n",
             o.subset, decode::chosen_decoder(d), d.beam.beam, words.error_rate(), words.errors(), words.ref_units(),
             units.error_rate(), units.errors(), units.ref_units());
  if (!o.results_path.empty()) {
    fs::create_directories(o.results_path);
    const std::string& model = o.source.path;
    const std::string suffix =
        fmt::format("-{}-{}.txt", model.empty() ? "emissions" : fs::path(model).filename().string(), o.subset);
    const fs::path out(o.results_path);
    write_file_atomic((out / ("hypo.word" + suffix)).string(), hypo_word);
    write_file_atomic((out / ("ref.word" + suffix)).string(), ref_word);
    write_file_atomic((out / ("hypo.units" + suffix)).string(), hypo_units);
    write_file_atomic((out / ("ref.units" + suffix)).string(), ref_units);
    if (d.beam.nbest > 1) write_file_atomic((out / ("hypo.nbest" + suffix)).string(), nbest);
  }
  return 0;
}

W2V_COMMAND("infer", std::string(w2v::cli::model_command_description("infer")),
            [](CLI::App& sub) {
              auto o = std::make_shared<InferOptions>();
              w2v::cli::add_emission_options(
                  sub, o->source,
                  "the directory with {subset}.tsv and {subset}.{labels} (dict.{labels}.txt is needed only for a "
                  "model stored without its dictionary, or for stored emissions)");
              sub.add_option("--subset,--gen-subset", o->subset, "split to decode")->capture_default_str();
              sub.add_option("--labels", o->labels, "label extension")->capture_default_str();
              w2v::cli::add_decoder_options(sub, o->decoding);
              sub.add_option("--results-path", o->results_path, "write hypo.word/ref.word/hypo.units/ref.units here");
              return [o] {
                w2v::cli::resolve_emission_source(o->source, "infer");
                return run_infer(*o);
              };
            });

}  // namespace
