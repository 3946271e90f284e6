// w2v infer [MODEL] DATA_DIR: fairseq's examples/speech_recognition/infer.py, native. Decodes a
// manifest split (DATA_DIR/{subset}.tsv with {subset}.{labels} references), reports WER
// and UER, speed, and writes fairseq's hypo/ref files. Progress bars on stderr when it is a terminal.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "cli/command.h"
#include "cli/model_commands.h"
#include "cli/decode_options.h"
#include "data/dictionary.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/decoder.h"
#include "decode/emission_file.h"
#include "decode/infer/acoustic_model.h"
#include "model/precision.h"
#include "eval/scoring.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

struct InferOptions {
  std::vector<std::string> positional;  // [MODEL] DATA_DIR
  std::string data, subset = "test", labels = "ltr", path, results_path;
  std::string dump_emissions, load_emissions;
  w2v::cli::DecoderOptions decoding;
  int threads = 1;
  std::string precision = "fp32";
  int64_t max_tokens = 1600000;
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

// The output units: the model's own dictionary (stored with it, or the LibriSpeech letters of
// a 32-output fairseq model); DATA_DIR's dict.{labels}.txt is needed only when the model has
// none (or for stored emissions), and must then list the same units in the same order - a
// reordered dictionary would silently map outputs to the wrong letters.
std::vector<std::string> symbols_of(const w2v::data::Dictionary& d) {
  std::vector<std::string> s;
  for (int64_t i = 0; i < d.size(); ++i) s.push_back(d.symbol(i));
  return s;
}

void check_same_units(const std::vector<std::string>& model, const std::vector<std::string>& dict,
                      const std::string& model_path, const std::string& dict_path) {
  if (model == dict) return;
  size_t row = 0;
  while (row < std::min(model.size(), dict.size()) && model[row] == dict[row]) ++row;
  throw w2v::file_error(dict_path, 0,
                        fmt::format("the model {} has {} output units, this dictionary {}; they first differ at row {} "
                                    "('{}' in the model, '{}' here). The model's own dictionary is used: remove or fix "
                                    "this file",
                                    model_path, model.size(), dict.size(), row, row < model.size() ? model[row] : "",
                                    row < dict.size() ? dict[row] : ""));
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
  const fs::path dir(o.data);
  const std::string dict_path = (dir / ("dict." + o.labels + ".txt")).string();
  const bool have_dict = fs::is_regular_file(dict_path);
  const std::string tsv = (dir / (o.subset + ".tsv")).string(), label_path = (dir / (o.subset + "." + o.labels)).string();
  const auto manifest = data::Manifest::load(tsv);
  const auto references = data::read_labels(label_path);
  if (references.size() != manifest.entries.size())
    throw file_error(label_path, static_cast<long>(std::min(references.size(), manifest.entries.size()) + 1),
                     fmt::format("expected one label line per manifest entry ({} in {}), got {}", manifest.entries.size(),
                                 tsv, references.size()));
  const int threads = cli::set_threads(o.threads);
  if (o.load_emissions.empty() && o.path.empty())
    throw Error("a model (MODEL or --path) is required unless --load-emissions gives stored emissions");

  std::optional<decode::AcousticModel> model;
  std::vector<std::string> symbols;
  if (o.load_emissions.empty()) {
    try {
      model.emplace(o.path, "", w2v::model::parse_precision(o.precision));
    } catch (const Error& e) {
      // Only a model stored without its dictionary falls back to DATA_DIR's.
      if (!have_dict || std::string(e.what()).find("dictionary") == std::string::npos) throw;
      model.emplace(o.path, dict_path, w2v::model::parse_precision(o.precision));
    }
    symbols = model->symbols();
    if (have_dict) check_same_units(symbols, symbols_of(data::Dictionary::load(dict_path)), o.path, dict_path);
  } else {
    if (!have_dict) throw file_error(dict_path, 0, "stored emissions need the dictionary of the model that made them");
    symbols = symbols_of(data::Dictionary::load(dict_path));
  }
  warn_unknown_units(references, symbols, label_path);

  const auto& d = o.decoding;
  const auto factory = cli::make_decoder_factory(d, symbols);
  const auto post_process = decode::parse_post_process(d.post_process);
  auto start = std::chrono::steady_clock::now();
  std::vector<decode::StoredEmissions> emissions;
  if (!o.load_emissions.empty()) {
    emissions = decode::read_emissions(o.load_emissions);
  } else {
    Progress bar("model", static_cast<int64_t>(manifest.entries.size()), 0, "utt/s");
    emissions = decode::manifest_emissions(*model, manifest, o.max_tokens,
                                           [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  }
  if (emissions.size() != manifest.entries.size())
    throw file_error(o.load_emissions.empty() ? o.path : o.load_emissions, 0,
                     fmt::format("expected emissions for the {} entries of {}, got {}", manifest.entries.size(), tsv,
                                 emissions.size()));
  std::vector<decode::Emissions> views;
  for (size_t i = 0; i < emissions.size(); ++i) {
    if (emissions[i].id != i || emissions[i].vocab != factory.tokens().size())
      throw file_error(o.load_emissions.empty() ? o.path : o.load_emissions, 0,
                       fmt::format("utterance {}: expected id {} with {} tokens per frame (the model's units), got id {} with {}",
                                   i, i, factory.tokens().size(), emissions[i].id, emissions[i].vocab));
    views.push_back(emissions[i].view());
  }
  if (!o.dump_emissions.empty()) decode::write_emissions(o.dump_emissions, emissions);
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
    const std::string suffix = fmt::format("-{}-{}.txt", o.path.empty() ? "emissions" : fs::path(o.path).filename().string(),
                                           o.subset);
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
              sub.add_option("MODEL DATA_DIR", o->positional,
                             "fine-tuned checkpoint (fairseq/w2v .pt or HF directory; omitted with --path or "
                             "--load-emissions), then the directory with {subset}.tsv and {subset}.{labels} "
                             "(dict.{labels}.txt is needed only for a model stored without its dictionary, or for "
                             "stored emissions)")
                  ->required()
                  ->expected(1, 2);
              sub.add_option("--subset,--gen-subset", o->subset, "split to decode")->capture_default_str();
              sub.add_option("--labels", o->labels, "label extension")->capture_default_str();
              sub.add_option("--path", o->path, "the model, fairseq infer.py's way (then DATA_DIR is the only positional)");
              w2v::cli::add_decoder_options(sub, o->decoding);
              sub.add_option("--results-path", o->results_path, "write hypo.word/ref.word/hypo.units/ref.units here");
              sub.add_option("--max-tokens", o->max_tokens,
                             "audio samples per forward batch (count x longest). Results never depend on the "
                             "batching: with a group-norm feature extractor (extractor_mode default) only "
                             "utterances of equal length share a forward, the others run alone and unpadded")
                  ->capture_default_str();
              sub.add_option("--threads", o->threads, "threads for the model and the decoders (0: all cores)")
                  ->capture_default_str();
              w2v::cli::add_precision_option(sub, o->precision);
              sub.add_option("--dump-emissions", o->dump_emissions, "save the emissions to FILE");
              sub.add_option("--load-emissions", o->load_emissions, "decode emissions saved by --dump-emissions")
                  ->check(CLI::ExistingFile);
              return [o] {
                o->data = o->positional.back();
                if (o->positional.size() == 2) {
                  if (!o->path.empty()) throw w2v::Error("infer: give the model once (MODEL or --path), not both");
                  o->path = o->positional.front();
                }
                if (!std::filesystem::is_directory(o->data))
                  throw w2v::Error("DATA_DIR " + o->data + ": not a directory");
                return run_infer(*o);
              };
            });

}  // namespace
