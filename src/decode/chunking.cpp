#include "decode/chunking.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace w2v::decode {

std::vector<Chunk> plan_chunks(int64_t samples, int64_t chunk_samples, int64_t overlap_samples,
                               const FrameGeometry& g, int64_t from) {
  // Window bounds at multiples of `unit` keep every window's frames aligned with the whole
  // signal's and its crop (geometry.multiple) out of the frames it keeps.
  const int64_t unit = g.stride * g.multiple;
  const int64_t core = chunk_samples / unit * unit;
  const int64_t overlap = (overlap_samples + unit - 1) / unit * unit;
  if (core < unit)
    throw Error("chunk length: expected at least " + std::to_string(unit) + " samples, got " +
                std::to_string(chunk_samples));
  if (overlap < g.receptive - g.stride)
    throw Error("chunk overlap: expected at least " + std::to_string(g.receptive - g.stride) +
                " samples (the feature encoder's receptive field beyond one stride), got " +
                std::to_string(overlap_samples));
  const int64_t total = g.frames(samples);
  std::vector<Chunk> chunks;
  if (from < 0 || from % core != 0)
    throw Error("chunk plan: start " + std::to_string(from) + " is not a multiple of the core " + std::to_string(core));
  for (int64_t begin = from; begin == from || begin < samples; begin += core) {
    Chunk c;
    c.core_begin = begin;
    c.core_end = begin + core;
    c.complete = begin + core + overlap <= samples;
    c.start = std::max<int64_t>(0, begin - overlap);
    c.length = std::min(samples, begin + core + overlap) - c.start;
    c.keep_begin = std::min(total, begin / g.stride);
    c.keep_end = begin + core >= samples ? total : std::min(total, (begin + core) / g.stride);
    chunks.push_back(c);
    if (c.keep_end == total) break;
  }
  return chunks;
}

void append_chunk(const Chunk& chunk, const float* emissions, int64_t frames, int vocab, const FrameGeometry& g,
                  std::vector<float>& out) {
  const int64_t offset = chunk.start / g.stride;
  if (chunk.keep_end - offset > frames)
    throw Error("chunk at sample " + std::to_string(chunk.start) + ": the model returned " + std::to_string(frames) +
                " frames, expected at least " + std::to_string(chunk.keep_end - offset));
  out.insert(out.end(), emissions + (chunk.keep_begin - offset) * vocab, emissions + (chunk.keep_end - offset) * vocab);
}

}  // namespace w2v::decode
