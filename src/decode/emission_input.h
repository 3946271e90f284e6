// Stored emissions read for decoding without a model or a data directory (`w2v decode`, issue
// 18.6): NumPy .npy logits ([T, V] or [1, T, V], float32 or float64, C order - what `w2v extract
// --logits` and numpy.save write) and w2v emission files (W2VEMIS1, `w2v infer --dump-emissions`).
#pragma once

#include <string>
#include <vector>

#include "decode/emissions.h"

namespace w2v::decode {

// Throws w2v::Error naming the file for anything but the shapes above, a size that disagrees
// with the file's length, or a non-finite value.
EmissionMatrix read_npy_emissions(const std::string& path);

// Every utterance of every file, in order; the kind is told by content (magic), not by name.
// Each id names the utterance in the output: an .npy file's name without ".npy" and a trailing
// ".logits"; "<file>:<row>" for emission files, or just the row when only one emission file is read.
std::vector<EmissionMatrix> load_emission_inputs(const std::vector<std::string>& paths);

}  // namespace w2v::decode
