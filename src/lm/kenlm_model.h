// KenLM's binary LM files (build_binary, format version 5) read natively by mmap: probing hash
// tables (also with rest costs) and tries, quantized (-q/-b) or with array-compressed pointers
// (-a, "bhiksha"). Scores are KenLM's query scores on the same file: the stored (possibly
// quantized) values, KenLM's vocabulary ids, KenLM's state minimisation and ngram lengths.
//
// Every size, offset and count the file declares is checked against the file before use; a
// KenLM file of another format version or an unknown model type is refused in one line.
#pragma once

#include <memory>
#include <string>

#include "lm/language_model.h"

namespace w2v::lm {

// True if the file starts like a KenLM binary (any version, complete or not).
bool is_kenlm_binary(const std::string& path);

// Maps and validates a KenLM binary; w2v::Error naming the file on anything it cannot read.
std::unique_ptr<BackoffModel> open_kenlm_binary(const std::string& path);

// Writes the ARPA (plain or .gz) as KenLM's probing binary, as `build_binary probing` does
// (multiplier 1.5, vocabulary strings included), atomically. Needs memory about the file's size.
// Returns what `lm compile` reports of it, so the file need not be read back.
struct ProbingFileSummary {
  int order;
  size_t words;  // vocabulary size, <unk> included (vocab_size() of the file once opened)
};
ProbingFileSummary write_kenlm_probing(const std::string& arpa_path, const std::string& out_path);

}  // namespace w2v::lm
