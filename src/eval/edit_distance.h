// Levenshtein alignment of a reference and a hypothesis sequence (words, characters or token
// ids), unit costs. The alignment, not just the distance, is kept so that reports can list
// substitutions, deletions and insertions (and which words were confused).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace w2v::eval {

enum class EditOp : uint8_t { kMatch, kSubstitute, kDelete, kInsert };

// ops in reference order; kDelete consumes a reference item only, kInsert a hypothesis item only.
// Among minimal alignments, backtracking prefers match/substitution, then deletion, then
// insertion (sclite's choice), so results are deterministic.
struct Alignment {
  std::vector<EditOp> ops;
  size_t matches = 0, substitutions = 0, deletions = 0, insertions = 0;
  size_t errors() const { return substitutions + deletions + insertions; }
};

template <class T>
Alignment align(const std::vector<T>& ref, const std::vector<T>& hyp) {
  const size_t n = ref.size(), m = hyp.size();
  // cost[i][j] = distance between ref[0..i) and hyp[0..j); one flat row-major table.
  std::vector<uint32_t> cost((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> uint32_t& { return cost[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = static_cast<uint32_t>(i);
  for (size_t j = 0; j <= m; ++j) at(0, j) = static_cast<uint32_t>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      uint32_t diag = at(i - 1, j - 1) + (ref[i - 1] == hyp[j - 1] ? 0 : 1);
      uint32_t del = at(i - 1, j) + 1, ins = at(i, j - 1) + 1;
      at(i, j) = diag < del ? (diag < ins ? diag : ins) : (del < ins ? del : ins);
    }
  }
  Alignment a;
  size_t i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && at(i, j) == at(i - 1, j - 1) + (ref[i - 1] == hyp[j - 1] ? 0 : 1)) {
      bool same = ref[i - 1] == hyp[j - 1];
      a.ops.push_back(same ? EditOp::kMatch : EditOp::kSubstitute);
      ++(same ? a.matches : a.substitutions);
      --i, --j;
    } else if (i > 0 && at(i, j) == at(i - 1, j) + 1) {
      a.ops.push_back(EditOp::kDelete);
      ++a.deletions;
      --i;
    } else {
      a.ops.push_back(EditOp::kInsert);
      ++a.insertions;
      --j;
    }
  }
  std::reverse(a.ops.begin(), a.ops.end());
  return a;
}

// The distance alone (two rows, no table, no backtrace), capped: a distance above `limit` comes
// back as limit + 1, found as soon as the length difference or a whole row exceeds it. Equals
// align(a, b).errors() whenever that is <= limit. Seq: anything with size() and operator[]
// (std::string, std::vector). Nearest-key suggestions call it for hundreds of candidates.
template <class Seq>
size_t edit_distance_at_most(const Seq& a, const Seq& b, size_t limit) {
  const size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > limit) return limit + 1;
  // row[j] = distance between a[0..i) and b[0..j) for the current i.
  std::vector<size_t> row(m + 1);
  for (size_t j = 0; j <= m; ++j) row[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    size_t diag = row[0];  // (i-1, j-1)
    row[0] = i;
    size_t row_min = row[0];
    for (size_t j = 1; j <= m; ++j) {
      const size_t up = row[j];  // (i-1, j)
      const size_t sub = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min(sub, std::min(up, row[j - 1]) + 1);
      diag = up;
      row_min = std::min(row_min, row[j]);
    }
    // Every later row is at least this row's minimum: no alignment can come back under it.
    if (row_min > limit) return limit + 1;
  }
  return row[m] > limit ? limit + 1 : row[m];
}

template <class T>
size_t edit_distance(const std::vector<T>& ref, const std::vector<T>& hyp) {
  return edit_distance_at_most(ref, hyp, SIZE_MAX - 1);
}

}  // namespace w2v::eval
