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

// One utterance's emissions tagged with its index in the manifest.
struct StoredEmissions : EmissionMatrix {
  uint64_t id = 0;
};

// Atomic write.
void write_emissions(const std::string& path, const std::vector<StoredEmissions>& utterances);
// Throws w2v::Error naming the file for a bad magic, truncation or trailing bytes.
std::vector<StoredEmissions> read_emissions(const std::string& path);

}  // namespace w2v::decode
