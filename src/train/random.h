// Seeded random source for masks and negatives. fairseq draws these from numpy/torch global
// generators; w2v derives one stream per (seed, update, step) instead, so a resumed run draws
// exactly what an uninterrupted one would without saving generator state.
#pragma once

#include <cstdint>
#include <vector>

namespace w2v::train {

// The draws compute_mask_indices needs; virtual so a test can record and replay them.
class MaskRandom {
 public:
  virtual ~MaskRandom() = default;
  virtual double uniform() = 0;                      // [0, 1)
  virtual int64_t below(int64_t n) = 0;              // uniform integer in [0, n)
  virtual double normal(double mean, double std) = 0;
  virtual int64_t poisson(double mean) = 0;
  // k distinct values of [0, n) in random order (numpy choice(n, k, replace=False)).
  virtual std::vector<int64_t> choose(int64_t n, int64_t k) = 0;
};

// xoshiro256** seeded through splitmix64.
class Rng : public MaskRandom {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform() override;
  int64_t below(int64_t n) override;
  double normal(double mean, double std) override;
  int64_t poisson(double mean) override;
  std::vector<int64_t> choose(int64_t n, int64_t k) override;

 private:
  uint64_t s_[4];
};

// Stream id for (seed, a, b, c): distinct inputs give independent streams.
uint64_t stream_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

}  // namespace w2v::train
