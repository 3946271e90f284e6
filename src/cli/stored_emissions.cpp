#include "cli/stored_emissions.h"

#include <fmt/core.h>

#include <map>

#include "data/dictionary.h"
#include "data/labels.h"
#include "decode/emission_file.h"
#include "eval/transcripts.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::cli {

std::vector<std::string> dictionary_symbols(const std::string& dict_path) {
  return data::Dictionary::load(dict_path).symbols();
}

std::vector<decode::Emissions> checked_views(const std::vector<decode::EmissionMatrix>& utterances, int vocab,
                                             const std::string& dict_path) {
  std::vector<decode::Emissions> views;
  for (const auto& u : utterances) {
    if (u.vocab != vocab)
      throw Error(fmt::format("{}: {} tokens per frame, but {} gives {} units (the model's dictionary is needed)", u.id,
                              u.vocab, dict_path, vocab));
    views.push_back(u.view());
  }
  return views;
}

std::vector<std::string> references_by_id(const std::vector<decode::EmissionMatrix>& utterances,
                                          const std::string& path) {
  std::map<std::string, std::string> by_id;
  for (auto& t : eval::parse_transcripts(read_file(path), path, eval::TranscriptLayout::kFirstColumn))
    if (!by_id.emplace(t.id, std::move(t.text)).second) throw file_error(path, t.line, "duplicate id '" + t.id + "'");
  std::vector<std::string> out;
  for (const auto& u : utterances) {
    auto it = by_id.find(u.id);
    if (it == by_id.end()) throw file_error(path, 0, "no reference for utterance '" + u.id + "'");
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> references_by_row(const std::vector<decode::EmissionMatrix>& utterances,
                                           const std::string& label_path, decode::PostProcess post_process) {
  const auto labels = data::read_labels(label_path);
  if (labels.size() != utterances.size())
    throw file_error(label_path, 0,
                     fmt::format("{} lines for {} stored utterances (the emissions must be this split's, from w2v "
                                 "infer --dump-emissions)",
                                 labels.size(), utterances.size()));
  std::vector<std::string> out;
  std::vector<bool> seen(labels.size());
  for (const auto& u : utterances) {
    uint64_t row = 0;
    if (!decode::parse_row(u.id, row) || row >= labels.size())
      throw file_error(label_path, 0,
                       fmt::format("utterance '{}' is not one of its {} rows (manifest-order references need the "
                                   "emissions of one w2v infer --dump-emissions file; else give ID-keyed references)",
                                   u.id, labels.size()));
    if (seen[row]) throw file_error(label_path, 0, fmt::format("row {} has emissions twice", row));
    seen[row] = true;
    out.push_back(decode::post_process(labels[row], post_process));
  }
  return out;
}

}  // namespace w2v::cli
