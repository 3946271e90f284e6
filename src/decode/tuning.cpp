#include "decode/tuning.h"

#include <fmt/core.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <tuple>

#include "util/error.h"

namespace w2v::decode {

namespace {

constexpr size_t kMaxValues = 1000;

double parse_number(const std::string& text, const std::string& option, const std::string& whole) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size() || errno == ERANGE || !std::isfinite(v))
    throw Error(fmt::format("option {}: '{}' in '{}' is not a number (expected START:STOP:STEP, A,B,C or one number)",
                            option, text, whole));
  return v;
}

// 0.1 * 3 is 0.30000000000000004: keep 12 significant digits so that values print as typed.
double tidy(double v) { return std::stod(fmt::format("{:.12g}", v)); }

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + 1)
    parts.push_back(text.substr(start, end - start));
  parts.push_back(text.substr(start));
  return parts;
}

size_t nearest(const std::vector<double>& values, double target) {
  size_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    const double d = std::fabs(values[i] - target), b = std::fabs(values[best] - target);
    if (d < b || (d == b && values[i] < values[best])) best = i;
  }
  return best;
}

}  // namespace

std::vector<double> parse_tuning_range(const std::string& text, const std::string& option) {
  std::vector<double> values;
  if (text.find(':') != std::string::npos) {
    const auto parts = split(text, ':');
    if (parts.size() != 3)
      throw Error(fmt::format("option {}: '{}': expected START:STOP:STEP (three numbers)", option, text));
    const double start = parse_number(parts[0], option, text), stop = parse_number(parts[1], option, text),
                 step = parse_number(parts[2], option, text);
    if (step <= 0) throw Error(fmt::format("option {}: '{}': STEP must be > 0", option, text));
    if (start > stop) throw Error(fmt::format("option {}: '{}': START must not exceed STOP", option, text));
    const double steps = std::floor((stop - start) / step + 1e-9);
    if (steps >= kMaxValues)
      throw Error(fmt::format("option {}: '{}' gives over {} values", option, text, kMaxValues));
    for (int64_t i = 0; i <= static_cast<int64_t>(steps); ++i)
      values.push_back(tidy(start + static_cast<double>(i) * step));
    return values;
  }
  for (const auto& part : split(text, ',')) {
    const double v = tidy(parse_number(part, option, text));
    for (double seen : values)
      if (seen == v) throw Error(fmt::format("option {}: '{}' repeats the value {}", option, text, v));
    values.push_back(v);
    if (values.size() > kMaxValues)
      throw Error(fmt::format("option {}: '{}' gives over {} values", option, text, kMaxValues));
  }
  return values;
}

bool ranks_before(const TuningResult& a, const TuningResult& b) {
  return std::make_tuple(a.errors, a.point.lm_weight, a.point.word_score, a.point.sil_weight) <
         std::make_tuple(b.errors, b.point.lm_weight, b.point.word_score, b.point.sil_weight);
}

std::vector<TuningResult> tune(const TuningRanges& ranges, TuningSearch search, const TuningPoint& start,
                               const std::function<TuningResult(const TuningPoint&)>& evaluate) {
  const std::array<const std::vector<double>*, 3> axes = {&ranges.lm_weight, &ranges.word_score, &ranges.sil_weight};
  for (const auto* axis : axes)
    if (axis->empty()) throw Error("tune: every parameter needs at least one value");
  std::vector<TuningResult> results;
  std::map<std::array<size_t, 3>, size_t> done;  // value indices -> results index
  // By value: a later evaluation may reallocate `results`.
  auto at = [&](const std::array<size_t, 3>& index) -> TuningResult {
    auto it = done.find(index);
    if (it == done.end()) {
      const TuningPoint p{(*axes[0])[index[0]], (*axes[1])[index[1]], (*axes[2])[index[2]]};
      TuningResult r = evaluate(p);
      r.point = p;
      results.push_back(r);
      it = done.emplace(index, results.size() - 1).first;
    }
    return results[it->second];
  };
  if (search == TuningSearch::kGrid) {
    for (size_t i = 0; i < axes[0]->size(); ++i)
      for (size_t j = 0; j < axes[1]->size(); ++j)
        for (size_t k = 0; k < axes[2]->size(); ++k) at({i, j, k});
    return results;
  }
  // Each move goes to a point strictly earlier under ranks_before (a total order on distinct
  // points), so the search ends.
  std::array<size_t, 3> current = {nearest(*axes[0], start.lm_weight), nearest(*axes[1], start.word_score),
                                   nearest(*axes[2], start.sil_weight)};
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t axis = 0; axis < 3; ++axis) {
      std::array<size_t, 3> best = current;
      for (size_t v = 0; v < axes[axis]->size(); ++v) {
        std::array<size_t, 3> candidate = current;
        candidate[axis] = v;
        if (ranks_before(at(candidate), at(best))) best = candidate;
      }
      if (best != current) {
        current = best;
        moved = true;
      }
    }
  }
  return results;
}

const TuningResult& best_result(const std::vector<TuningResult>& results) {
  if (results.empty()) throw Error("tune: no settings were decoded");
  const TuningResult* best = &results[0];
  for (const auto& r : results)
    if (ranks_before(r, *best)) best = &r;
  return *best;
}

}  // namespace w2v::decode
