// What `w2v infer` and `w2v pseudo-label` share, over the recognizer library: a manifest split's
// emissions from a fine-tuned model loaded as a Recognizer (with DATA_DIR's dictionary as the
// fallback for a model stored without one) or from a file of stored emissions, checked against
// the manifest, and the decoders; plus the flags for them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "decode/decoder.h"
#include "decode/emissions.h"

namespace w2v {
class Recognizer;
}

namespace w2v::cli {

// Where emissions come from, and what to do with them; the fields of the flags below.
struct EmissionSource {
  std::vector<std::string> positional;  // [MODEL] DATA_DIR as given
  std::string data, path;               // DATA_DIR; the model (MODEL or --path), "" with --load-emissions
  std::string dump_emissions, load_emissions;
  std::string precision = "fp32";
  int64_t max_tokens = 1600000;
  int threads = 1;
};

// MODEL DATA_DIR, --path, --max-tokens, --threads, --precision, --dump-emissions, --load-emissions.
// `data_help` says what DATA_DIR must hold for this command.
void add_emission_options(CLI::App& sub, EmissionSource& o, const std::string& data_help);
// Splits the positionals into path and data (once the flags are parsed); errors for a model given
// twice, a DATA_DIR that is not a directory, or neither a model nor stored emissions.
void resolve_emission_source(EmissionSource& o, const std::string& command);

// The model's units and the decoders (loading the model and the LM), then the split's emissions
// on demand.
class SplitEmissions {
 public:
  // dict_path: DATA_DIR/dict.{labels}.txt. Used when the model has no dictionary of its own, and
  // for stored emissions (required then); when present it must list the model's units in order.
  // decoding: the decoder flags, checked (errors naming them) before the model loads.
  SplitEmissions(const EmissionSource& source, const std::string& dict_path, const decode::DecoderOptions& decoding);
  ~SplitEmissions();

  const std::vector<std::string>& symbols() const { return symbols_; }
  // The Recognizer's decoders, or for stored emissions the same decoders over the dictionary.
  const decode::DecoderFactory& decoders() const;
  // One entry per manifest row, in order (id = the row), symbols().size() scores per frame (else
  // an error naming the model or file); a progress bar on stderr while the model runs; written
  // to --dump-emissions when given. tsv names the manifest in errors.
  std::vector<decode::EmissionMatrix> compute(const data::Manifest& manifest, const std::string& tsv) const;

 private:
  EmissionSource source_;
  std::unique_ptr<Recognizer> recognizer_;                 // when a model runs
  std::unique_ptr<decode::DecoderFactory> stored_decoders_;  // for stored emissions
  std::vector<std::string> symbols_;
};

// Non-owning decoder views of emissions.
std::vector<decode::Emissions> emission_views(const std::vector<decode::EmissionMatrix>& emissions);

}  // namespace w2v::cli
