// The acoustic side of inference: a fine-tuned CTC checkpoint turned into emissions (raw
// logits, fairseq's choice, spec 8.1) for the decoders. The only torch-using part of decoding.
#pragma once

#include <string>
#include <vector>

#include "checkpoint/model_io.h"
#include "data/manifest.h"
#include "decode/chunking.h"
#include "decode/emission_file.h"

namespace w2v::decode {

class AcousticModel {
 public:
  // Loads a CTC checkpoint (fairseq, HF or w2v); dict_path (dict.ltr.txt) overrides the
  // dictionary stored with it. Errors name the file: not a CTC model, no dictionary, size
  // mismatch.
  explicit AcousticModel(const std::string& checkpoint, const std::string& dict_path = "");

  const std::vector<std::string>& symbols() const { return symbols_; }
  // fairseq task.normalize: the model expects zero-mean unit-variance waveforms.
  bool normalize() const { return loaded_.config.normalize; }
  const FrameGeometry& geometry() const { return geometry_; }

  // Emissions of a batch of 16 kHz waveforms, zero-padded to the longest with a padding mask
  // (fairseq's collater); [T_i × V] row-major per input, T_i = its unpadded frames.
  std::vector<std::vector<float>> emissions(const std::vector<const std::vector<float>*>& waves);

  // One waveform of any length: windows of chunk_seconds (+ overlap_seconds each side),
  // stitched (see chunking.h).
  std::vector<float> long_emissions(const std::vector<float>& wave, double chunk_seconds, double overlap_seconds);

 private:
  ckpt::LoadedModel loaded_;
  std::vector<std::string> symbols_;
  FrameGeometry geometry_;
};

// Emissions of every manifest entry (id = manifest index), read from disk and normalised as the
// model expects; batches of at most max_tokens padded samples, entries in length order as
// fairseq's batch_by_size groups them (padding affects group-norm models, spec 11.13).
std::vector<StoredEmissions> manifest_emissions(AcousticModel& model, const data::Manifest& manifest,
                                                int64_t max_tokens);

}  // namespace w2v::decode
