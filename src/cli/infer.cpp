// w2v infer: fairseq's examples/speech_recognition/infer.py, native. Decodes a manifest split
// (DATA_DIR/{subset}.tsv with {subset}.{labels} references and dict.{labels}.txt), reports WER
// and UER, speed, and writes fairseq's hypo/ref files. Progress bars on stderr when it is a terminal.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "data/dictionary.h"
#include "data/labels.h"
#include "data/manifest.h"
#include "decode/decoder.h"
#include "decode/emission_file.h"
#include "decode/infer/acoustic_model.h"
#include "eval/scoring.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace {

struct InferOptions {
  std::string data, subset = "test", labels = "ltr", path, results_path;
  std::string dump_emissions, load_emissions;
  w2v::cli::DecoderOptions decoding;
  int threads = 1;
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

int run_infer(const InferOptions& o) {
  namespace fs = std::filesystem;
  using namespace w2v;
  const fs::path dir(o.data);
  const auto dictionary = data::Dictionary::load((dir / ("dict." + o.labels + ".txt")).string());
  std::vector<std::string> symbols;
  for (int64_t i = 0; i < dictionary.size(); ++i) symbols.push_back(dictionary.symbol(i));
  const std::string tsv = (dir / (o.subset + ".tsv")).string(), label_path = (dir / (o.subset + "." + o.labels)).string();
  const auto manifest = data::Manifest::load(tsv);
  const auto references = data::read_labels(label_path);
  if (references.size() != manifest.entries.size())
    throw file_error(label_path, static_cast<long>(std::min(references.size(), manifest.entries.size()) + 1),
                     fmt::format("expected one label line per manifest entry ({} in {}), got {}", manifest.entries.size(),
                                 tsv, references.size()));
  const int threads = cli::set_threads(o.threads);

  const auto& d = o.decoding;
  const auto factory = cli::make_decoder_factory(d, symbols);
  const auto post_process = decode::parse_post_process(d.post_process);
  auto start = std::chrono::steady_clock::now();
  std::vector<decode::StoredEmissions> emissions;
  if (!o.load_emissions.empty()) {
    emissions = decode::read_emissions(o.load_emissions);
  } else if (!o.path.empty()) {
    decode::AcousticModel model(o.path, (dir / ("dict." + o.labels + ".txt")).string());
    Progress bar("model", static_cast<int64_t>(manifest.entries.size()), 0, "utt/s");
    emissions = decode::manifest_emissions(model, manifest, o.max_tokens,
                                           [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  } else {
    throw Error("option --path: a checkpoint is required unless --load-emissions gives stored emissions");
  }
  if (emissions.size() != manifest.entries.size())
    throw file_error(o.load_emissions.empty() ? o.path : o.load_emissions, 0,
                     fmt::format("expected emissions for the {} entries of {}, got {}", manifest.entries.size(), tsv,
                                 emissions.size()));
  std::vector<decode::Emissions> views;
  for (size_t i = 0; i < emissions.size(); ++i) {
    if (emissions[i].id != i || emissions[i].vocab != factory.tokens().size())
      throw file_error(o.load_emissions.empty() ? o.path : o.load_emissions, 0,
                       fmt::format("utterance {}: expected id {} with {} tokens per frame (dict.{}.txt), got id {} with {}",
                                   i, i, factory.tokens().size(), o.labels, emissions[i].id, emissions[i].vocab));
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
             o.subset, d.decoder, d.beam.beam, words.error_rate(), words.errors(), words.ref_units(),
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

W2V_COMMAND("infer", "Decode a manifest split with a fine-tuned model (fairseq infer.py): WER, speed, hypo/ref files",
            [](CLI::App& sub) {
              auto o = std::make_shared<InferOptions>();
              sub.add_option("DATA_DIR", o->data, "directory with {subset}.tsv, {subset}.{labels}, dict.{labels}.txt")
                  ->required()
                  ->check(CLI::ExistingDirectory);
              sub.add_option("--subset,--gen-subset", o->subset, "split to decode")->capture_default_str();
              sub.add_option("--labels", o->labels, "label extension")->capture_default_str();
              sub.add_option("--path", o->path, "fine-tuned checkpoint (fairseq .pt, HF or w2v)");
              w2v::cli::add_decoder_options(sub, o->decoding);
              sub.add_option("--results-path", o->results_path, "write hypo.word/ref.word/hypo.units/ref.units here");
              sub.add_option("--max-tokens", o->max_tokens,
                             "audio samples per forward batch (count x longest). Results never depend on the "
                             "batching: with a group-norm feature extractor (extractor_mode default) only "
                             "utterances of equal length share a forward, the others run alone and unpadded")
                  ->capture_default_str();
              sub.add_option("--threads", o->threads, "threads for the model and the decoders (0: all cores)")
                  ->capture_default_str();
              sub.add_option("--dump-emissions", o->dump_emissions, "save the emissions to FILE");
              sub.add_option("--load-emissions", o->load_emissions, "decode emissions saved by --dump-emissions")
                  ->check(CLI::ExistingFile);
              return [o] { return run_infer(*o); };
            });

}  // namespace
