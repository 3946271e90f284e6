#include "lm/kneser_ney.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <ostream>
#include <unordered_map>

#include "lm/arpa.h"
#include "lm/language_model.h"
#include "lm/letters.h"
#include "lm/text_file.h"
#include "util/error.h"

namespace w2v::lm {

namespace {

constexpr WordIndex kUnk = 0, kBos = 1, kEos = 2;

// Corpus as ids: every sentence is <s> w1 .. wk </s> (no </s> for an unterminated last line,
// as lmplz). Ids follow first occurrence after <unk>, <s>, </s>.
struct Corpus {
  std::vector<std::string> words{"<unk>", "<s>", "</s>"};
  std::vector<WordIndex> ids;
  uint64_t tokens = 0;
};

bool is_delimiter(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\0'; }

Corpus read_corpus(const std::string& path, const KneserNeyOptions& options, std::ostream* log) {
  Corpus c;
  std::unordered_map<std::string, WordIndex> index;
  std::string key;
  auto add = [&](std::string_view token) {
    key.assign(token.data(), token.size());
    auto [it, inserted] = index.try_emplace(key, static_cast<WordIndex>(c.words.size()));
    if (inserted) {
      if (c.words.size() >= kNoWord - 1) throw file_error(path, 0, "more than 2^32 - 2 word types");
      c.words.push_back(key);
    }
    c.ids.push_back(it->second);
  };
  LineReader in(path);
  std::string_view line;
  bool warned = false;
  while (in.next(line)) {
    c.ids.push_back(kBos);
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_delimiter(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_delimiter(line[j])) ++j;
      if (j == i) break;
      std::string_view word = line.substr(i, j - i);
      i = j;
      if (word == "<s>" || word == "</s>" || word == "<unk>") {
        if (!options.skip_symbols)
          throw file_error(path, in.line_number(),
                           fmt::format("special word {} is not allowed in the corpus (set skip_symbols to "
                                       "treat <s>, </s> and <unk> as whitespace)", word));
        if (!warned && log)
          fmt::print(*log, "Warning: {} appears in the input; all <s>, </s> and <unk> are treated as whitespace.\n", word);
        warned = true;
        continue;
      }
      ++c.tokens;
      if (!options.letters) {
        add(word);
        continue;
      }
      for (std::string_view letter : utf8_characters(word)) add(letter);
      add(kWordBoundary);
    }
    if (in.terminated()) c.ids.push_back(kEos);
  }
  return c;
}

// All n-grams of one order, sorted in lmplz's suffix order. Words are stored reversed (last word
// first) so that suffix order is plain lexicographic order, the suffix of an n-gram is a prefix
// of its record and records sharing a suffix are contiguous.
struct Grams {
  int n = 0;
  std::vector<WordIndex> words;
  std::vector<uint32_t> raw, adjusted;
  std::vector<uint8_t> pruned;
  std::vector<float> log_prob, log_backoff;
  size_t size() const { return raw.size(); }
  const WordIndex* at(size_t i) const { return words.data() + i * n; }
};

template <int N>
void count_order(const std::vector<WordIndex>& ids, Grams& g) {
  // Windows ending on a word or </s> that do not reach back past their sentence's <s>.
  auto for_each_window = [&](auto&& f) {
    size_t start = 0;
    for (size_t p = 0; p < ids.size(); ++p) {
      if (ids[p] == kBos) {
        start = p;
        continue;
      }
      if (p - start + 1 >= static_cast<size_t>(N)) f(p);
    }
  };
  size_t windows = 0;
  for_each_window([&](size_t) { ++windows; });
  std::vector<std::array<WordIndex, N>> keys;
  keys.reserve(windows);
  for_each_window([&](size_t p) {
    std::array<WordIndex, N> k;
    for (int i = 0; i < N; ++i) k[i] = ids[p - i];
    keys.push_back(k);
  });
  std::sort(keys.begin(), keys.end());
  static_assert(sizeof(std::array<WordIndex, N>) == N * sizeof(WordIndex));
  // Deduplicate in place first so that the flat copy is allocated once, at its final size.
  std::vector<uint32_t> raw;
  size_t unique = 0;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i + 1;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    keys[unique++] = keys[i];
    raw.push_back(static_cast<uint32_t>(j - i));
    i = j;
  }
  g.n = N;
  g.words.resize(unique * N);
  std::memcpy(g.words.data(), keys.data(), unique * sizeof keys[0]);
  g.raw = std::move(raw);
}

void count_grams(const Corpus& c, int n, Grams& g) {
  if (n == 1) {
    g.n = 1;
    g.words.resize(c.words.size());
    std::iota(g.words.begin(), g.words.end(), 0);
    g.raw.assign(c.words.size(), 0);
    for (WordIndex w : c.ids)
      if (w != kBos) ++g.raw[w];
    return;
  }
  switch (n) {
    case 2: return count_order<2>(c.ids, g);
    case 3: return count_order<3>(c.ids, g);
    case 4: return count_order<4>(c.ids, g);
    case 5: return count_order<5>(c.ids, g);
    case 6: return count_order<6>(c.ids, g);
    case 7: return count_order<7>(c.ids, g);
    case 8: return count_order<8>(c.ids, g);
  }
  throw Error(fmt::format("order {} is not supported (1..{})", n, kMaxOrder));
}

// Lexicographic comparison of two reversed records over their first `len` words.
int compare(const WordIndex* a, const WordIndex* b, int len) {
  for (int i = 0; i < len; ++i)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

// Index in `lower` (order n-1) of every n-gram's suffix (its last n-1 words): a merge walk.
std::vector<uint32_t> suffix_index(const Grams& g, const Grams& lower) {
  std::vector<uint32_t> out(g.size());
  size_t j = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    while (compare(lower.at(j), g.at(i), lower.n) < 0) ++j;
    out[i] = static_cast<uint32_t>(j);
  }
  return out;
}

// Index in `lower` of every n-gram's context (its first n-1 words), through an open-addressing
// hash of `lower`'s records: one probe per n-gram instead of a cache-missing binary search.
std::vector<uint32_t> context_index(const Grams& g, const Grams& lower) {
  auto hash = [&](const WordIndex* w) {
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < lower.n; ++i) h = (h ^ w[i]) * 0xff51afd7ed558ccdULL, h ^= h >> 29;
    return h;
  };
  size_t buckets = 2;
  while (buckets < lower.size() * 2) buckets <<= 1;
  const size_t mask = buckets - 1;
  std::vector<uint32_t> slots(buckets, 0);  // record index + 1; 0 = empty
  for (size_t i = 0; i < lower.size(); ++i) {
    size_t b = hash(lower.at(i)) & mask;
    while (slots[b]) b = (b + 1) & mask;
    slots[b] = static_cast<uint32_t>(i + 1);
  }
  std::vector<uint32_t> out(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    const WordIndex* key = g.at(i) + 1;
    size_t b = hash(key) & mask;
    // Every context is listed (windows are closed under prefixes), so the probe terminates.
    while (compare(lower.at(slots[b] - 1), key, lower.n) != 0) b = (b + 1) & mask;
    out[i] = slots[b] - 1;
  }
  return out;
}

double discount(const Discounts& d, uint32_t adjusted) { return d.d[std::min<uint32_t>(adjusted, 3)]; }

Discounts estimate_discounts(const Grams& g, int order, WordIndex last_word, const KneserNeyOptions& options,
                             const std::string& corpus, std::ostream* log) {
  uint64_t t[5] = {0, 0, 0, 0, 0};
  // lmplz's end-of-stream flush tallies the greatest n-gram under its raw count when it ends in
  // the last word type (ngram_lm.md section 3).
  const bool quirk = g.n < order && g.size() > 0 && g.at(g.size() - 1)[0] == last_word;
  for (size_t i = 0; i < g.size(); ++i) {
    uint32_t a = (quirk && i + 1 == g.size()) ? g.raw[i] : g.adjusted[i];
    if (a >= 1 && a <= 4) ++t[a];
  }
  Discounts d;
  std::string failure;
  for (int k = 1; k <= 3 && failure.empty(); ++k)
    if (t[k] == 0)
      failure = fmt::format(
          "could not calculate Kneser-Ney discounts for {}-grams with adjusted count {} because no {}-grams have "
          "adjusted count {}; the corpus is too small or artificial (deduplicate it or set discount_fallback)",
          g.n, k + 1, g.n, k);
  if (failure.empty()) {
    const double y = double(t[1]) / double(t[1] + 2 * t[2]);
    for (int k = 1; k <= 3; ++k) d.d[k] = k - (k + 1) * y * double(t[k + 1]) / double(t[k]);
    for (int k = 1; k <= 3 && failure.empty(); ++k)
      if (d.d[k] < 0 || d.d[k] > k)
        failure = fmt::format(
            "{}-gram discount out of range for adjusted count {}: {} (modified Kneser-Ney finds the counts "
            "weird; set discount_fallback to override)",
            g.n, k, d.d[k]);
  }
  if (failure.empty()) return d;
  if (options.discount_fallback.empty()) throw file_error(corpus, 0, failure);
  for (int k = 1; k <= 3; ++k)
    d.d[k] = options.discount_fallback[std::min<size_t>(k - 1, options.discount_fallback.size() - 1)];
  d.fallback = true;
  if (log)
    fmt::print(*log, "Substituting fallback discounts for order {}: D1={} D2={} D3+={}\n", g.n - 1, d.d[1], d.d[2],
               d.d[3]);
  return d;
}

void validate(const KneserNeyOptions& o) {
  if (o.order < 1 || o.order > kMaxOrder) throw Error(fmt::format("order must be 1..{}, got {}", kMaxOrder, o.order));
  if (o.prune.size() > static_cast<size_t>(o.order))
    throw Error(fmt::format("prune: {} thresholds given for an order-{} model", o.prune.size(), o.order));
  for (size_t i = 1; i < o.prune.size(); ++i)
    if (o.prune[i] < o.prune[i - 1]) throw Error("prune: thresholds must be non-decreasing");
  if (o.discount_fallback.size() > 3) throw Error("discount_fallback takes at most three values");
  for (size_t k = 0; k < o.discount_fallback.size(); ++k)
    if (!(o.discount_fallback[k] >= 0 && o.discount_fallback[k] <= double(k + 1)))
      throw Error(fmt::format("discount_fallback: D{} must lie in [0, {}], got {}", k + 1, k + 1,
                              o.discount_fallback[k]));
}

}  // namespace

KneserNeyStats estimate_kneser_ney(const std::string& corpus_path, const std::string& arpa_out,
                                   const KneserNeyOptions& options, std::ostream* log) {
  validate(options);
  const int N = options.order;
  Corpus corpus = read_corpus(corpus_path, options, log);
  const WordIndex V = static_cast<WordIndex>(corpus.words.size());
  KneserNeyStats stats;
  stats.tokens = corpus.tokens;
  stats.types = V;
  if (log) fmt::print(*log, "Unigram tokens {} types {}\n", corpus.tokens, V);
  if (corpus.tokens == 0 && std::count(corpus.ids.begin(), corpus.ids.end(), kEos) == 0)
    throw file_error(corpus_path, 0, "the corpus has no sentences");

  std::vector<Grams> grams(N);
  for (int n = 1; n <= N; ++n) count_grams(corpus, n, grams[n - 1]);
  corpus.ids = std::vector<WordIndex>();

  // Words outside the vocabulary limit: the most frequent words stay (ties: first occurrence).
  std::vector<uint8_t> dropped(V, 0);
  if (options.vocab_limit > 0 && options.vocab_limit + 3 < V) {
    std::vector<WordIndex> order(V - 3);
    std::iota(order.begin(), order.end(), 3);
    std::stable_sort(order.begin(), order.end(),
                     [&](WordIndex a, WordIndex b) { return grams[0].raw[a] > grams[0].raw[b]; });
    for (size_t i = options.vocab_limit; i < order.size(); ++i) dropped[order[i]] = 1;
  }

  for (int n = 1; n <= N; ++n) {
    Grams& g = grams[n - 1];
    // Adjusted counts: distinct left neighbours, except at the top order and for <s>-initial n-grams.
    if (n < N) {
      g.adjusted.assign(g.size(), 0);
      const Grams& up = grams[n];
      for (uint32_t j : suffix_index(up, g)) ++g.adjusted[j];
      for (size_t i = 0; i < g.size(); ++i)
        if (g.at(i)[n - 1] == kBos) g.adjusted[i] = g.raw[i];
    } else {
      g.adjusted = g.raw;
    }
    const uint64_t threshold = options.prune.empty() ? 0 : options.prune[std::min<size_t>(n - 1, options.prune.size() - 1)];
    g.pruned.assign(g.size(), 0);
    for (size_t i = 0; i < g.size(); ++i) {
      const WordIndex* w = g.at(i);
      if (n == 1 && (w[0] == kUnk || w[0] == kBos)) continue;
      bool prune = g.raw[i] <= threshold;
      for (int k = 0; k < n && !prune; ++k) prune = dropped[w[k]];
      g.pruned[i] = prune;
    }
  }

  stats.discounts.resize(N);
  for (int n = 1; n <= N; ++n)
    stats.discounts[n - 1] = estimate_discounts(grams[n - 1], N, V - 1, options, corpus_path, log);

  // Probabilities order by order; gamma of a context is its backoff.
  std::vector<double> prob_lower;
  for (int n = 1; n <= N; ++n) {
    Grams& g = grams[n - 1];
    const Discounts& d = stats.discounts[n - 1];
    g.log_prob.assign(g.size(), 0.0f);
    g.log_backoff.assign(g.size(), 0.0f);
    std::vector<double> prob(g.size());
    if (n == 1) {
      uint64_t total = 0;
      double mass = 0;
      uint64_t survivors = 0;
      for (size_t i = 0; i < g.size(); ++i) {
        total += g.adjusted[i];
        mass += g.pruned[i] ? g.adjusted[i] : discount(d, g.adjusted[i]);
        survivors += !g.pruned[i];
      }
      const double gamma = mass / double(total);
      const double uniform = options.interpolate_unigrams ? gamma / double(survivors - 1) : 0.0;
      for (size_t i = 0; i < g.size(); ++i) {
        const WordIndex w = g.at(i)[0];
        if (w == kBos)
          prob[i] = 1.0;
        else if (w == kUnk)
          prob[i] = options.interpolate_unigrams ? uniform : gamma;
        else
          prob[i] = (g.adjusted[i] - discount(d, g.adjusted[i])) / double(total) + uniform;
      }
    } else {
      Grams& lower = grams[n - 2];
      const std::vector<uint32_t> context = context_index(g, lower);
      std::vector<uint64_t> total(lower.size(), 0);
      std::vector<double> mass(lower.size(), 0.0);
      for (size_t i = 0; i < g.size(); ++i) {
        total[context[i]] += g.adjusted[i];
        mass[context[i]] += g.pruned[i] ? g.adjusted[i] : discount(d, g.adjusted[i]);
      }
      const std::vector<uint32_t> suffix = suffix_index(g, lower);
      for (size_t i = 0; i < g.size(); ++i) {
        const uint32_t h = context[i];
        const double gamma = mass[h] / double(total[h]);
        prob[i] = (g.adjusted[i] - discount(d, g.adjusted[i])) / double(total[h]) + gamma * prob_lower[suffix[i]];
      }
      for (size_t h = 0; h < lower.size(); ++h)
        if (total[h] > 0) lower.log_backoff[h] = static_cast<float>(std::log10(mass[h] / double(total[h])));
    }
    for (size_t i = 0; i < g.size(); ++i) g.log_prob[i] = static_cast<float>(std::min(0.0, std::log10(prob[i])));
    prob_lower = std::move(prob);
  }

  stats.total.resize(N);
  stats.kept.resize(N);
  std::vector<uint64_t> counts(N);
  for (int n = 1; n <= N; ++n) {
    const Grams& g = grams[n - 1];
    stats.total[n - 1] = g.size();
    stats.kept[n - 1] = counts[n - 1] = g.size() - std::count(g.pruned.begin(), g.pruned.end(), 1);
  }
  if (log) {
    fmt::print(*log, "Statistics:\n");
    for (int n = 1; n <= N; ++n) {
      const Discounts& d = stats.discounts[n - 1];
      const std::string count = options.prune.empty() && !options.vocab_limit
                                    ? std::to_string(stats.total[n - 1])
                                    : fmt::format("{}/{}", stats.kept[n - 1], stats.total[n - 1]);
      fmt::print(*log, "{} {} D1={} D2={} D3+={}\n", n, count, d.d[1], d.d[2], d.d[3]);
    }
  }

  write_text_atomic(arpa_out, [&](std::ostream& out) {
    write_arpa(out, counts, [&](int n, const std::function<void(const ArpaEntry&)>& emit) {
      const Grams& g = grams[n - 1];
      ArpaEntry e;
      e.words.resize(n);
      for (size_t i = 0; i < g.size(); ++i) {
        if (g.pruned[i]) continue;
        for (int k = 0; k < n; ++k) e.words[k] = corpus.words[g.at(i)[n - 1 - k]];
        e.log10_prob = g.log_prob[i];
        e.log10_backoff = g.log_backoff[i];
        emit(e);
      }
    });
  });
  return stats;
}

}  // namespace w2v::lm
