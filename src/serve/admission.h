// Bounded admission for transcriptions: at most max_running run at once (they share one model,
// each on its own thread); at most max_waiting more wait in line, first come first served; a
// request beyond that is refused at once (the server answers 503 with Retry-After) instead of
// piling up memory and latency.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace w2v::serve {

class Admission {
 public:
  Admission(int max_running, int max_waiting);

  // Held while a transcription runs; releasing it lets the next waiting request in and feeds
  // the service-time estimate behind retry_after_seconds().
  class Ticket {
   public:
    explicit Ticket(Admission* owner) : owner_(owner), start_(std::chrono::steady_clock::now()) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    Admission* owner_;
    std::chrono::steady_clock::time_point start_;
  };

  // Waits for a slot; nullptr when the line is already full.
  std::unique_ptr<Ticket> enter();

  // Seconds until a slot is likely free: the line ahead times the mean service time over the
  // slots (at least 1), for Retry-After.
  int retry_after_seconds() const;

  int running() const;
  int waiting() const;
  int max_running() const { return max_running_; }
  int max_waiting() const { return max_waiting_; }

 private:
  void release(double seconds);

  const int max_running_, max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  int running_ = 0, waiting_ = 0;
  uint64_t next_ = 0, serving_ = 0;  // ticket numbers: waiters are let in in arrival order
  double mean_seconds_ = 1;          // moving average of service times
};

}  // namespace w2v::serve
