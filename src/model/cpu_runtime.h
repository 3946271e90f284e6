// Process-wide CPU settings for LibTorch, applied once by each entry point (w2v-model,
// bench_model, every Recognizer) before the first forward. Without them a large tensor is a
// fresh mmap that the kernel zero-fills page by page on first touch: a BASE forward on 10 s
// spent half its time in page faults (docs/inference.md). CachingCpuAllocator keeps freed
// large blocks for later tensors that fit in them.
#pragma once

#include <c10/core/Allocator.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace w2v::model {

// Tensor memory for CPU: blocks of at least kMinBytes are page-mapped in kStep steps (huge
// pages where the kernel allows) and kept after release for a later request that fits in them
// (at most a fifth of the block unused). Kept blocks never make the memory mapped exceed the
// most ever in use at once, nor `cache_limit` bytes (the least recently released are unmapped
// first). Smaller requests go to `small` (LibTorch's default allocator). Thread-safe.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kMinBytes = size_t{1} << 20;
  static constexpr size_t kStep = size_t{2} << 20;

  CachingCpuAllocator(c10::Allocator* small, size_t cache_limit);
  ~CachingCpuAllocator() override;
  CachingCpuAllocator(const CachingCpuAllocator&) = delete;
  CachingCpuAllocator& operator=(const CachingCpuAllocator&) = delete;

  c10::DataPtr allocate(size_t bytes) const override;
  c10::DeleterFnPtr raw_deleter() const override;

  struct Stats {
    size_t live_bytes = 0;    // large blocks in use
    size_t cached_bytes = 0;  // large blocks released and kept
    uint64_t hits = 0;        // large allocations served from the cache
    uint64_t misses = 0;      // large allocations that mapped new memory
  };
  Stats stats() const;
  // Unmaps every cached block (live ones stay).
  void release_cache() const;

  struct Block {
    void* ptr;
    size_t bytes;
  };

 private:
  // Keeps or unmaps ptr's block; false when ptr is not one of this allocator's blocks in use.
  bool release(void* ptr) const;
  // Removes the least recently released blocks until at most `keep` bytes stay kept; the caller
  // holds mutex_ and unmaps what it gets after unlocking.
  std::vector<Block> take_oldest_beyond(size_t keep) const;
  static void release_any(void* ptr);  // the deleter: finds the allocator that owns ptr

  c10::Allocator* small_;
  size_t cache_limit_;
  mutable std::mutex mutex_;
  mutable std::vector<Block> cached_;  // in release order, oldest first
  mutable std::vector<Block> live_;
  mutable size_t peak_live_ = 0;
  mutable Stats stats_;
};

struct CpuRuntime {
  std::string blas_core;   // the kernel set OpenBLAS runs (OPENBLAS_CORETYPE or its detection); "" if not OpenBLAS
  size_t cache_limit = 0;  // CachingCpuAllocator's limit; 0 = LibTorch's default allocator
};

// Installs CachingCpuAllocator as LibTorch's CPU allocator once per process (later calls return
// the first result). The cache limit is min(4 GiB, physical memory / 8), or W2V_CPU_CACHE_MB
// (whole MiB; 0 keeps LibTorch's allocator; anything else is a w2v::Error).
const CpuRuntime& tune_cpu_runtime();

// Unmaps the installed allocator's kept blocks (none installed: nothing). Called once a model is
// loaded and prepared: the loader's buffers fit no forward's tensors and would stay kept.
void trim_cpu_cache();

}  // namespace w2v::model
