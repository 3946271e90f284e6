// The acoustic side of inference: a fine-tuned CTC checkpoint turned into emissions (raw
// logits, fairseq's choice, spec 8.1) for the decoders. The only torch-using part of decoding.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "checkpoint/model_io.h"
#include "data/manifest.h"
#include "decode/chunking.h"
#include "decode/emissions.h"
#include "model/precision.h"

namespace w2v::decode {

class AcousticModel {
 public:
  // Loads a CTC checkpoint (fairseq, HF or w2v); dict_path (dict.ltr.txt) overrides the
  // dictionary stored with it. Errors name the file: not a CTC model, no dictionary, size
  // mismatch. The weights are prepared once for `precision` (model/precision.h).
  explicit AcousticModel(const std::string& checkpoint, const std::string& dict_path = "",
                         model::Precision precision = model::Precision::kFp32);

  const std::vector<std::string>& symbols() const { return symbols_; }
  // fairseq task.normalize: the model expects zero-mean unit-variance waveforms.
  bool normalize() const { return loaded_.config.normalize; }
  const FrameGeometry& geometry() const { return geometry_; }

  // Emissions of 16 kHz waveforms (already normalised if the model wants it), one per input.
  // Each input's emissions are those of a run on it alone, whatever the batch: inputs share a
  // zero-padded forward with a padding mask (fairseq's collater) unless the model has a
  // group-norm feature extractor or crops its frames (crop_seq_to_multiple), where only inputs
  // of equal length do. Thread-safe (const).
  std::vector<EmissionMatrix> emissions(const std::vector<const std::vector<float>*>& waves) const;

  // One audio file of any length and rate, resampled to 16 kHz and normalised as a whole when
  // the model expects it: windows of chunk_seconds (+ overlap_seconds each side) are read from
  // disk one at a time and their emissions stitched (see chunking.h), so memory holds one
  // window plus the emissions (V floats per 20 ms frame). on_window, if given, gets the samples
  // (16 kHz) of the file covered so far after each window.
  EmissionMatrix file_emissions(const std::string& path, double chunk_seconds, double overlap_seconds,
                                const std::function<void(int64_t)>& on_window = {}) const;
  // The same for a 16 kHz signal in memory (normalised here, as a whole, when the model wants it).
  EmissionMatrix signal_emissions(const std::vector<float>& wave, double chunk_seconds, double overlap_seconds) const;

 private:
  // One forward on the inputs zero-padded to the longest.
  std::vector<EmissionMatrix> padded_emissions(const std::vector<const std::vector<float>*>& waves) const;
  // Runs the windows of plan_chunks(samples, ...) in order; window(c) gives chunk c's samples,
  // normalised.
  EmissionMatrix windowed(int64_t samples, double chunk_seconds, double overlap_seconds,
                          const std::function<std::vector<float>(const Chunk&)>& window,
                          const std::function<void(int64_t)>& on_window) const;

  ckpt::LoadedModel loaded_;
  std::vector<std::string> symbols_;
  FrameGeometry geometry_;
};

// Emissions of every manifest entry (id = its manifest row), read from disk and normalised as the
// model expects; batches of at most max_tokens padded samples, entries in length order as
// fairseq's batch_by_size groups them; results do not depend on the batching (see emissions()).
// on_batch, if given, gets the number of entries done so far after each batch.
std::vector<EmissionMatrix> manifest_emissions(const AcousticModel& model, const data::Manifest& manifest,
                                               int64_t max_tokens, const std::function<void(size_t)>& on_batch = {});

}  // namespace w2v::decode
