// A file of per-utterance emissions, so that decoding can be re-run (other decoders, LM weights)
// without the acoustic model: `w2v infer --dump-emissions F` writes it, `--load-emissions F`
// reads it. Layout (little-endian): magic "W2VEMIS1", u64 count, then per utterance
// u64 id, u32 frames, u32 vocab, frames×vocab float32 row-major.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decode/emissions.h"

namespace w2v::decode {

// The manifest row an utterance id names ("0", "17", ...); false if it is not a decimal number.
bool parse_row(const std::string& id, uint64_t& row);

// Atomic write. Each utterance's id is its manifest row, a decimal number (else w2v::Error).
void write_emissions(const std::string& path, const std::vector<EmissionMatrix>& utterances);
// Ids come back as decimal strings. Throws w2v::Error naming the file for a bad magic,
// truncation or trailing bytes.
std::vector<EmissionMatrix> read_emissions(const std::string& path);

}  // namespace w2v::decode
