#include "serve/admission.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace w2v::serve {

Admission::Admission(int max_running, int max_waiting) : max_running_(max_running), max_waiting_(max_waiting) {
  if (max_running < 1) throw Error("max concurrency: expected at least 1, got " + std::to_string(max_running));
  if (max_waiting < 0) throw Error("max queue: expected 0 or more, got " + std::to_string(max_waiting));
}

Admission::Ticket::~Ticket() {
  owner_->release(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

std::unique_ptr<Admission::Ticket> Admission::enter() {
  std::unique_lock<std::mutex> lock(mu_);
  if (waiting_ == 0 && running_ < max_running_) {
    ++running_;
    return std::make_unique<Ticket>(this);
  }
  if (waiting_ >= max_waiting_) return nullptr;
  ++waiting_;
  const uint64_t mine = next_++;
  freed_.wait(lock, [&] { return serving_ == mine && running_ < max_running_; });
  --waiting_;
  ++serving_;
  ++running_;
  // The next in line may fit too (several slots freed at once).
  freed_.notify_all();
  return std::make_unique<Ticket>(this);
}

void Admission::release(double seconds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    mean_seconds_ = 0.8 * mean_seconds_ + 0.2 * seconds;
  }
  freed_.notify_all();
}

int Admission::retry_after_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  const double ahead = static_cast<double>(waiting_ + running_) / max_running_;
  return std::max(1, static_cast<int>(std::ceil(ahead * mean_seconds_)));
}

int Admission::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int Admission::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace w2v::serve
