#include "util/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace w2v {

namespace {

constexpr double kRedrawSeconds = 0.25;
constexpr int kBarWidth = 20;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

int terminal_columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

std::string format_duration(double seconds) {
  const int64_t s = std::isfinite(seconds) && seconds > 0 ? static_cast<int64_t>(seconds) : 0;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

std::string format_progress(const ProgressLine& l, int columns) {
  const double rate = l.elapsed > 0 ? static_cast<double>(l.done - l.start) / l.elapsed : 0.0;
  std::string s = l.label;
  if (l.total > 0) {
    const double frac = std::clamp(static_cast<double>(l.done) / static_cast<double>(l.total), 0.0, 1.0);
    const int filled = static_cast<int>(frac * kBarWidth);
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100));
    s += " " + std::string(pct) + " |" + std::string(filled, '#') + std::string(kBarWidth - filled, ' ') + "| " +
         std::to_string(l.done) + "/" + std::to_string(l.total);
    const std::string eta = rate > 0 ? format_duration(static_cast<double>(l.total - l.done) / rate) : "?";
    s += " [" + format_duration(l.elapsed) + "<" + eta;
  } else {
    s += " " + std::to_string(l.done) + " [" + format_duration(l.elapsed);
  }
  s += ", " + number(rate) + " " + l.unit + "]";
  for (const auto& [k, v] : l.stats) s += " " + k + "=" + number(v);
  if (columns > 1 && static_cast<int>(s.size()) > columns - 1) s.resize(static_cast<size_t>(columns - 1));
  return s;
}

Progress::Progress(std::string label, int64_t total, int64_t start, std::string unit, bool enabled)
    : begin_(std::chrono::steady_clock::now()) {
  line_.label = std::move(label);
  line_.total = total;
  line_.start = line_.done = start;
  line_.unit = std::move(unit);
  if (enabled && isatty(STDERR_FILENO)) out_ = &std::cerr;
}

Progress::Progress(std::string label, int64_t total, std::ostream& out, int columns)
    : out_(&out), columns_(columns), begin_(std::chrono::steady_clock::now()) {
  line_.label = std::move(label);
  line_.total = total;
}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done, ProgressStats stats) {
  if (!out_) return;
  line_.done = done;
  line_.stats = std::move(stats);
  const auto now = std::chrono::steady_clock::now();
  if (!shown_ || std::chrono::duration<double>(now - last_draw_).count() >= kRedrawSeconds ||
      (line_.total > 0 && done >= line_.total))
    draw();
}

void Progress::clear() {
  if (!out_ || !shown_) return;
  *out_ << "\r\x1b[K" << std::flush;
  shown_ = false;
}

void Progress::finish() {
  if (!out_) return;
  draw();
  *out_ << "\n" << std::flush;
  out_ = nullptr;
}

void Progress::draw() {
  const auto now = std::chrono::steady_clock::now();
  line_.elapsed = std::chrono::duration<double>(now - begin_).count();
  *out_ << "\r" << format_progress(line_, columns_ > 0 ? columns_ : terminal_columns()) << "\x1b[K" << std::flush;
  shown_ = true;
  last_draw_ = now;
}

}  // namespace w2v
