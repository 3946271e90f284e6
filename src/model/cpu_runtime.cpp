#include "model/cpu_runtime.h"

#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "util/error.h"

namespace w2v::model {

namespace {

// Every CachingCpuAllocator alive, so that the one deleter function finds a pointer's owner.
std::mutex owners_mutex;
std::vector<const CachingCpuAllocator*>& owners() {
  static auto* list = new std::vector<const CachingCpuAllocator*>();  // never destroyed: tensors may outlive statics
  return *list;
}

void* map_block(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);  // fewer page faults on first touch; advice only
#endif
  return p;
}

void unmap(const std::vector<CachingCpuAllocator::Block>& blocks) {
  for (const auto& b : blocks) munmap(b.ptr, b.bytes);
}

}  // namespace

CachingCpuAllocator::CachingCpuAllocator(c10::Allocator* small, size_t cache_limit)
    : small_(small), cache_limit_(cache_limit) {
  std::lock_guard<std::mutex> lock(owners_mutex);
  owners().push_back(this);
}

CachingCpuAllocator::~CachingCpuAllocator() {
  release_cache();
  std::lock_guard<std::mutex> lock(owners_mutex);
  auto& list = owners();
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

c10::DataPtr CachingCpuAllocator::allocate(size_t bytes) const {
  if (bytes < kMinBytes) return small_->allocate(bytes);
  size_t rounded = (bytes + kStep - 1) / kStep * kStep;
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // The smallest released block that fits with at most a fifth of it unused (a block much
    // larger than the request is kept for a request of its size: taking it would send that
    // request to new memory); among equals the most recently released, likeliest in cache.
    auto best = cached_.rend();
    for (auto it = cached_.rbegin(); it != cached_.rend(); ++it)
      if (it->bytes >= rounded && 4 * it->bytes <= 5 * rounded && (best == cached_.rend() || it->bytes < best->bytes))
        best = it;
    if (best != cached_.rend()) {
      ptr = best->ptr;
      rounded = best->bytes;
      cached_.erase(std::next(best).base());
      stats_.cached_bytes -= rounded;
      ++stats_.hits;
    }
  }
  if (!ptr) {
    // New memory: first unmap the least recently released blocks while memory in use plus
    // kept would exceed the most ever in use, so that keeping blocks never raises the peak.
    std::vector<Block> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const size_t ceiling = std::max(peak_live_, stats_.live_bytes + rounded);
      evicted = take_oldest_beyond(ceiling - stats_.live_bytes - rounded);
    }
    unmap(evicted);
    ptr = map_block(rounded);
    if (!ptr) {
      release_cache();
      ptr = map_block(rounded);
    }
    TORCH_CHECK(ptr, "out of memory: cannot map ", rounded, " bytes for a tensor");
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.misses;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  live_.push_back({ptr, rounded});
  stats_.live_bytes += rounded;
  peak_live_ = std::max(peak_live_, stats_.live_bytes);
  return {ptr, ptr, &release_any, c10::Device(c10::DeviceType::CPU)};
}

c10::DeleterFnPtr CachingCpuAllocator::raw_deleter() const { return &release_any; }

bool CachingCpuAllocator::release(void* ptr) const {
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find_if(live_.begin(), live_.end(), [&](const Block& b) { return b.ptr == ptr; });
    if (it == live_.end()) return false;
    const Block block = *it;
    live_.erase(it);
    stats_.live_bytes -= block.bytes;
    cached_.push_back(block);
    stats_.cached_bytes += block.bytes;
    evicted = take_oldest_beyond(std::min(cache_limit_, peak_live_));
  }
  unmap(evicted);
  return true;
}

std::vector<CachingCpuAllocator::Block> CachingCpuAllocator::take_oldest_beyond(size_t keep) const {
  size_t n = 0, bytes = stats_.cached_bytes;
  while (n < cached_.size() && bytes > keep) bytes -= cached_[n++].bytes;
  std::vector<Block> taken(cached_.begin(), cached_.begin() + static_cast<std::ptrdiff_t>(n));
  cached_.erase(cached_.begin(), cached_.begin() + static_cast<std::ptrdiff_t>(n));
  stats_.cached_bytes = bytes;
  return taken;
}

void CachingCpuAllocator::release_any(void* ptr) {
  std::lock_guard<std::mutex> lock(owners_mutex);
  for (const auto* a : owners())
    if (a->release(ptr)) return;
  // raw_deallocate of a small block (raw_allocate hands those to the small allocator).
  if (owners().empty()) return;
  if (auto small_deleter = owners().front()->small_->raw_deleter()) small_deleter(ptr);
}

CachingCpuAllocator::Stats CachingCpuAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingCpuAllocator::release_cache() const {
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    evicted = take_oldest_beyond(0);
  }
  unmap(evicted);
}

// ---- tune_cpu_runtime ----

namespace {

// The kernel set a DYNAMIC_ARCH OpenBLAS chose (its own detection, or OPENBLAS_CORETYPE).
std::string openblas_core() {
  using CoreName = char* (*)();
  void* scope = dlopen("libblas.so.3", RTLD_LAZY | RTLD_NOLOAD);  // searched with its dependencies
  auto corename = reinterpret_cast<CoreName>(dlsym(scope ? scope : RTLD_DEFAULT, "gotoblas_corename"));
  std::string name = corename ? corename() : "";
  if (scope) dlclose(scope);
  return name;
}

size_t cache_limit_bytes() {
  if (const char* mb = std::getenv("W2V_CPU_CACHE_MB")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(mb, &end, 10);
    if (end == mb || *end != '\0' || v > (1ull << 40))
      throw Error(std::string("W2V_CPU_CACHE_MB='") + mb + "': expected a whole number of MiB (0 = no cache)");
    return static_cast<size_t>(v) << 20;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const size_t ram = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  return std::min<size_t>(size_t{4} << 30, ram / 8);
}

}  // namespace

void trim_cpu_cache() {
  if (const auto* caching = dynamic_cast<const CachingCpuAllocator*>(c10::GetCPUAllocator())) caching->release_cache();
}

const CpuRuntime& tune_cpu_runtime() {
  static const CpuRuntime runtime = [] {
    CpuRuntime r;
    r.blas_core = openblas_core();
    r.cache_limit = cache_limit_bytes();
    if (r.cache_limit > 0) {
      static auto* allocator = new CachingCpuAllocator(c10::GetCPUAllocator(), r.cache_limit);  // lives to exit
      c10::SetCPUAllocator(allocator, /*priority=*/1);
    }
    return r;
  }();
  return runtime;
}

}  // namespace w2v::model
