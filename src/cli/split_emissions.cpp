// See split_emissions.h. Model loading (a Recognizer) with the dictionary fallback and the
// emission checks that `w2v infer` and `w2v pseudo-label` share.
#include "cli/split_emissions.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "cli/command.h"
#include "cli/decode_options.h"
#include "cli/model_commands.h"
#include "data/dictionary.h"
#include "decode/emission_file.h"
#include "recognizer/impl.h"
#include "util/error.h"
#include "util/progress.h"

namespace w2v::cli {
namespace {

// The output units: the model's own dictionary (stored with it, or the LibriSpeech letters of
// a 32-output fairseq model); DATA_DIR's dict.{labels}.txt is needed only when the model has
// none (or for stored emissions), and must then list the same units in the same order - a
// reordered dictionary would silently map outputs to the wrong letters.
void check_same_units(const std::vector<std::string>& model, const std::vector<std::string>& dict,
                      const std::string& model_path, const std::string& dict_path) {
  if (model == dict) return;
  size_t row = 0;
  while (row < std::min(model.size(), dict.size()) && model[row] == dict[row]) ++row;
  throw file_error(dict_path, 0,
                   fmt::format("the model {} has {} output units, this dictionary {}; they first differ at row {} "
                               "('{}' in the model, '{}' here). The model's own dictionary is used: remove or fix "
                               "this file",
                               model_path, model.size(), dict.size(), row, row < model.size() ? model[row] : "",
                               row < dict.size() ? dict[row] : ""));
}

}  // namespace

void add_emission_options(CLI::App& sub, EmissionSource& o, const std::string& data_help) {
  sub.add_option("MODEL DATA_DIR", o.positional,
                 "fine-tuned checkpoint (fairseq/w2v .pt or HF directory; omitted with --path or --load-emissions), "
                 "then " + data_help)
      ->required()
      ->expected(1, 2);
  sub.add_option("--path", o.path, "the model, fairseq infer.py's way (then DATA_DIR is the only positional)");
  sub.add_option("--max-tokens", o.max_tokens,
                 "audio samples per forward batch (count x longest). Results never depend on the batching: with a "
                 "group-norm feature extractor (extractor_mode default) only utterances of equal length share a "
                 "forward, the others run alone and unpadded")
      ->capture_default_str();
  sub.add_option("--threads", o.threads, "threads for the model and the decoders (0: all cores)")->capture_default_str();
  add_precision_option(sub, o.precision);
  sub.add_option("--dump-emissions", o.dump_emissions, "save the emissions to FILE");
  sub.add_option("--load-emissions", o.load_emissions, "decode emissions saved by --dump-emissions (no model run)")
      ->check(CLI::ExistingFile);
}

void resolve_emission_source(EmissionSource& o, const std::string& command) {
  o.data = o.positional.back();
  if (o.positional.size() == 2) {
    if (!o.path.empty()) throw Error(command + ": give the model once (MODEL or --path), not both");
    o.path = o.positional.front();
  }
  if (!std::filesystem::is_directory(o.data)) throw Error("DATA_DIR " + o.data + ": not a directory");
  if (o.load_emissions.empty() && o.path.empty())
    throw Error("a model (MODEL or --path) is required unless --load-emissions gives stored emissions");
}

SplitEmissions::SplitEmissions(const EmissionSource& source, const std::string& dict_path,
                               const decode::DecoderOptions& decoding)
    : source_(source) {
  checked_decoder_kind(decoding);
  const bool have_dict = std::filesystem::is_regular_file(dict_path);
  if (source.load_emissions.empty()) {
    RecognizerOptions options;
    options.model = source.path;
    options.decoding = decoding;
    options.threads = -1;  // the command has set them (cli::set_threads)
    options.precision = source.precision;
    try {
      recognizer_ = std::make_unique<Recognizer>(options);
    } catch (const Error& e) {
      // Only a model stored without its dictionary falls back to DATA_DIR's.
      if (!have_dict || std::string(e.what()).find("dictionary") == std::string::npos) throw;
      options.dict = dict_path;
      recognizer_ = std::make_unique<Recognizer>(options);
    }
    symbols_ = recognizer_->symbols();
    if (have_dict) check_same_units(symbols_, data::Dictionary::load(dict_path).symbols(), source.path, dict_path);
  } else {
    if (!have_dict) throw file_error(dict_path, 0, "stored emissions need the dictionary of the model that made them");
    symbols_ = data::Dictionary::load(dict_path).symbols();
    stored_decoders_ = std::make_unique<decode::DecoderFactory>(make_decoder_factory(decoding, symbols_));
  }
}

SplitEmissions::~SplitEmissions() = default;

const decode::DecoderFactory& SplitEmissions::decoders() const {
  return recognizer_ ? recognizer_->impl().factory : *stored_decoders_;
}

std::vector<decode::EmissionMatrix> SplitEmissions::compute(const data::Manifest& manifest,
                                                            const std::string& tsv) const {
  std::vector<decode::EmissionMatrix> emissions;
  if (!recognizer_) {
    emissions = decode::read_emissions(source_.load_emissions);
  } else {
    Progress bar("model", static_cast<int64_t>(manifest.entries.size()), 0, "utt/s");
    emissions = decode::manifest_emissions(recognizer_->impl().model, manifest, source_.max_tokens,
                                           [&](size_t done) { bar.update(static_cast<int64_t>(done)); });
  }
  const std::string& from = recognizer_ ? source_.path : source_.load_emissions;
  if (emissions.size() != manifest.entries.size())
    throw file_error(from, 0, fmt::format("expected emissions for the {} entries of {}, got {}",
                                          manifest.entries.size(), tsv, emissions.size()));
  for (size_t i = 0; i < emissions.size(); ++i)
    if (emissions[i].id != std::to_string(i) || emissions[i].vocab != static_cast<int>(symbols_.size()))
      throw file_error(from, 0,
                       fmt::format("utterance {}: expected id {} with {} tokens per frame (the model's units), got id "
                                   "{} with {}",
                                   i, i, symbols_.size(), emissions[i].id, emissions[i].vocab));
  if (!source_.dump_emissions.empty()) decode::write_emissions(source_.dump_emissions, emissions);
  return emissions;
}

std::vector<decode::Emissions> emission_views(const std::vector<decode::EmissionMatrix>& emissions) {
  std::vector<decode::Emissions> views;
  views.reserve(emissions.size());
  for (const auto& e : emissions) views.push_back(e.view());
  return views;
}

}  // namespace w2v::cli
