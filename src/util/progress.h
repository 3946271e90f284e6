// A one-line terminal progress bar on stderr, e.g.
//   train  37% |#######             | 37/100 [01:02<01:45, 0.59 ups] loss=3.214 lr=0.0005
// Drawn only when stderr is a terminal, so redirected runs and their logs stay clean; redrawn
// at most 4 times a second so that fast loops do not spend their time drawing.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace w2v {

using ProgressStats = std::vector<std::pair<std::string, double>>;

// What one line shows. total <= 0: unknown (no bar, percentage or ETA). `done` and `elapsed`
// count from `start` (work done before, e.g. by a resumed run, does not inflate the rate).
struct ProgressLine {
  std::string label;
  int64_t done = 0, total = 0, start = 0;
  double elapsed = 0;        // seconds since start
  std::string unit = "it/s";  // name of the rate
  ProgressStats stats;        // key=value, values with 4 significant digits
};

// The line itself, at most `columns - 1` characters (the last column would wrap on some
// terminals). Pure, so it is what the tests check.
std::string format_progress(const ProgressLine& line, int columns);

// "MM:SS", or "H:MM:SS" from one hour on.
std::string format_duration(double seconds);

class Progress {
 public:
  // Draws on stderr if it is a terminal and `enabled`; otherwise every call does nothing.
  Progress(std::string label, int64_t total, int64_t start = 0, std::string unit = "it/s", bool enabled = true);
  // Draws on `out` with a fixed width, whatever it is connected to (tests).
  Progress(std::string label, int64_t total, std::ostream& out, int columns);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool active() const { return out_ != nullptr; }
  // Records the state; redraws if 0.25 s passed since the last draw, or on reaching total.
  void update(int64_t done, ProgressStats stats = {});
  // Erases the line so that other output can be printed; the next update redraws it.
  void clear();
  // Draws the last state and ends the line; later calls do nothing.
  void finish();

 private:
  void draw();

  ProgressLine line_;
  std::ostream* out_ = nullptr;
  int columns_ = 0;  // 0: ask the terminal at each draw
  bool shown_ = false;
  std::chrono::steady_clock::time_point begin_, last_draw_;
};

}  // namespace w2v
