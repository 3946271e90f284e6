// What `w2v decode` and `w2v tune` share to decode and score stored emissions without a model:
// the emissions checked against the model's dictionary, and references for each utterance - by
// id ("ID words..." lines) or by manifest row (DATA_DIR/{subset}.{labels}, as `w2v infer` scores).
#pragma once

#include <string>
#include <vector>

#include "decode/emission_input.h"
#include "decode/emissions.h"
#include "decode/post_process.h"

namespace w2v::cli {

// The units of a fairseq dictionary file (dict.ltr.txt), in order.
std::vector<std::string> dictionary_symbols(const std::string& dict_path);

// Decoder views of `utterances`; each must have `vocab` scores per frame, else the error names
// the utterance and `dict_path` (emissions from another model).
std::vector<decode::Emissions> checked_views(const std::vector<decode::EmissionMatrix>& utterances, int vocab,
                                             const std::string& dict_path);

// One reference per utterance, in order, from Kaldi-style "ID words..." lines (the id as
// load_emission_inputs names the utterance). Errors name the file: a duplicate id (its line),
// an utterance without a reference.
std::vector<std::string> references_by_id(const std::vector<decode::EmissionMatrix>& utterances,
                                          const std::string& path);

// One reference per utterance, in order, from a label file in manifest order (one line per row;
// .ltr lines post-processed into words as `w2v infer` does). The utterance ids must be the rows
// 0..N-1 of one `w2v infer --dump-emissions` file, each once; errors name the file for a count
// mismatch, an id that is not a row, or a repeated one.
std::vector<std::string> references_by_row(const std::vector<decode::EmissionMatrix>& utterances,
                                           const std::string& label_path, decode::PostProcess post_process);

}  // namespace w2v::cli
