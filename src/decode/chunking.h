// Long audio in pieces: the model sees windows of bounded length, and the emissions of their
// centres are stitched into one [T, V] sequence for the whole file, so that decoding (and word
// times) run over the file as if it had been processed at once. Each window extends `overlap`
// samples beyond its core on both sides, so every kept frame has context on both sides (except
// at the file's ends). Frame f covers samples [f·stride, f·stride + receptive) - wav2vec 2.0's
// feature encoder: stride 320, receptive field 400 - so a window starting at a multiple of the
// stride yields frames aligned with the whole file's. A model with crop_seq_to_multiple m drops
// the frames past the last whole multiple of m of its input: windows then start and end at
// multiples of m frames, so each window's crop falls in its overlap, and the last window's is
// the whole file's.
#pragma once

#include <cstdint>
#include <vector>

namespace w2v::decode {

struct FrameGeometry {
  int64_t stride = 320;
  int64_t receptive = 400;
  int64_t multiple = 1;  // the model's crop_seq_to_multiple
  // Frames the model gives for a signal of `samples` samples (0 when shorter than one
  // receptive field; a whole multiple of `multiple`).
  int64_t frames(int64_t samples) const {
    const int64_t n = samples < receptive ? 0 : (samples - receptive) / stride + 1;
    return n - n % multiple;
  }
};

struct Chunk {
  int64_t start = 0, length = 0;         // window in samples
  int64_t keep_begin = 0, keep_end = 0;  // global frames taken from this window's output
  int64_t core_begin = 0, core_end = 0;  // the core in samples (before any cut at the signal's end)
  // The window has its full right context, so it is the same in any longer signal (what a
  // live stream can run before the audio ends).
  bool complete = false;
};

// Windows covering `samples`: cores of chunk_samples (rounded down to a multiple of the stride
// times geometry.multiple), each widened by overlap_samples (rounded up to one) on both sides. `from`
// (a core boundary of an earlier plan) starts the plan there, for signals that grow.
// Throws w2v::Error when the core is shorter than that multiple or the overlap cannot cover the
// receptive field of a core's last frame.
std::vector<Chunk> plan_chunks(int64_t samples, int64_t chunk_samples, int64_t overlap_samples,
                               const FrameGeometry& geometry = {}, int64_t from = 0);

// Appends the kept frames of one window's output (`frames` × vocab, row-major, frame 0 at
// sample chunk.start) to `out`.
void append_chunk(const Chunk& chunk, const float* emissions, int64_t frames, int vocab, const FrameGeometry& geometry,
                  std::vector<float>& out);

}  // namespace w2v::decode
