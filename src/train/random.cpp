#include "train/random.h"

#include <cmath>
#include <numeric>
#include <unordered_map>

#include "util/error.h"

namespace w2v::train {
namespace {

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t stream_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = seed;
  for (uint64_t v : {a, b, c}) {
    x ^= v + 0x632be59bd9b4e019ULL;
    x = splitmix(x);
  }
  return x;
}

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int64_t Rng::below(int64_t n) {
  if (n <= 0) throw Error("Rng::below: empty range");
  // Rejection keeps the draw exactly uniform.
  const uint64_t un = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  uint64_t x;
  do x = next();
  while (x >= limit);
  return static_cast<int64_t>(x % un);
}

double Rng::normal(double mean, double std) {
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  const double u2 = uniform();
  return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int64_t Rng::poisson(double mean) {
  const double limit = std::exp(-mean);
  int64_t k = 0;
  double p = uniform();
  while (p > limit) {
    ++k;
    p *= uniform();
  }
  return k;
}

std::vector<int64_t> Rng::choose(int64_t n, int64_t k) {
  if (k < 0 || k > n) throw Error("Rng::choose: cannot draw " + std::to_string(k) +
                                  " distinct values from " + std::to_string(n));
  // Partial Fisher-Yates over a sparse view of [0, n): O(k) memory for any n.
  std::unordered_map<int64_t, int64_t> swapped;
  auto get = [&](int64_t i) {
    auto it = swapped.find(i);
    return it == swapped.end() ? i : it->second;
  };
  std::vector<int64_t> out(k);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + below(n - i);
    const int64_t vi = get(i), vj = get(j);
    swapped[j] = vi;
    out[i] = vj;
  }
  return out;
}

}  // namespace w2v::train
