// Chunked emissions: with a stand-in "model" whose frame f depends only on samples
// [320 f, 320 f + 400) (as the feature encoder's), stitched windows must reproduce the
// whole-signal output exactly, for many lengths, chunk sizes and overlaps. This checks the
// window plan and the stitching arithmetic only; stitching a real transformer (whose attention
// sees the whole input) is measured in test_chunking_model.cpp.
#include <gtest/gtest.h>

#include <random>

#include "decode/chunking.h"
#include "util/error.h"

namespace w2v::decode {
namespace {

// Two "emission" values per frame: the receptive field's sum and its first sample.
std::vector<float> fake_model(const float* x, int64_t n, const FrameGeometry& g) {
  std::vector<float> out;
  for (int64_t f = 0; f < g.frames(n); ++f) {
    float s = 0;
    for (int64_t i = f * g.stride; i < f * g.stride + g.receptive; ++i) s += x[i];
    out.push_back(s);
    out.push_back(x[f * g.stride]);
  }
  return out;
}

TEST(Chunking, StitchedWindowsEqualWholeSignalForLocalReceptiveField) {
  FrameGeometry g;
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  int checked = 0;
  for (int64_t n : {0, 399, 400, 401, 5000, 16000, 48123, 100000}) {
    std::vector<float> x(n);
    for (auto& v : x) v = u(rng);
    auto whole = fake_model(x.data(), n, g);
    for (int64_t chunk : {320, 3200, 16000, 40000}) {
      for (int64_t overlap : {80, 320, 1000}) {
        std::vector<float> stitched;
        int64_t prev_end = 0;
        for (const auto& c : plan_chunks(n, chunk, overlap, g)) {
          EXPECT_EQ(c.keep_begin, prev_end);
          prev_end = c.keep_end;
          auto part = fake_model(x.data() + c.start, c.length, g);
          append_chunk(c, part.data(), static_cast<int64_t>(part.size()) / 2, 2, g, stitched);
        }
        EXPECT_EQ(stitched, whole) << "n " << n << " chunk " << chunk << " overlap " << overlap;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 96);
}

// A model with crop_seq_to_multiple m gives a whole multiple of m frames for any input: each
// window's crop must fall outside the frames it keeps, and the last window's must be the whole
// signal's (the stand-in model crops as the real one).
TEST(Chunking, StitchedWindowsEqualWholeSignalWhenTheModelCropsToAMultiple) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  int checked = 0;
  for (int64_t multiple : {2, 3, 4}) {
    FrameGeometry g;
    g.multiple = multiple;
    for (int64_t n : {399, 400, 1040, 5000, 16000, 48123, 100000}) {
      std::vector<float> x(n);
      for (auto& v : x) v = u(rng);
      auto whole = fake_model(x.data(), n, g);
      EXPECT_EQ(whole.size() / 2 % multiple, 0u);
      for (int64_t chunk : {1280, 3200, 16000, 40000})
        for (int64_t overlap : {80, 320, 1000}) {
          std::vector<float> stitched;
          for (const auto& c : plan_chunks(n, chunk, overlap, g)) {
            auto part = fake_model(x.data() + c.start, c.length, g);
            append_chunk(c, part.data(), static_cast<int64_t>(part.size()) / 2, 2, g, stitched);
          }
          EXPECT_EQ(stitched, whole) << "multiple " << multiple << " n " << n << " chunk " << chunk << " overlap "
                                     << overlap;
          ++checked;
        }
    }
  }
  EXPECT_EQ(checked, 252);
}

TEST(Chunking, RejectsUnusableSizes) {
  EXPECT_THROW(plan_chunks(16000, 100, 320), Error);
  EXPECT_THROW(plan_chunks(16000, 3200, 0), Error);
  FrameGeometry cropping;
  cropping.multiple = 4;
  EXPECT_THROW(plan_chunks(16000, 1000, 320, cropping), Error);  // under 4 frames of core
}

}  // namespace
}  // namespace w2v::decode
