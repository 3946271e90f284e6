#include "lm/kenlm_model.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "lm/kenlm_search.h"
#include "lm/model_memory.h"
#include "util/error.h"

namespace w2v::lm {

namespace kenlm {

uint64_t murmur_hash64a(const void* key, size_t length, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ (length * m);
  const auto* data = static_cast<const uint8_t*>(key);
  const uint8_t* end = data + (length / 8) * 8;
  for (; data != end; data += 8) {
    uint64_t k = load64(data);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const size_t tail = length & 7;
  if (tail) {
    for (size_t i = tail; i-- > 0;) h ^= uint64_t{data[i]} << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

}  // namespace kenlm

namespace {

using namespace kenlm;
using u128 = unsigned __int128;

// The file starts with the magic line (NUL-padded to 56 bytes) and test values that pin the
// byte order and type sizes (KenLM's Sanity), then FixedWidthParameters and the counts.
constexpr char kMagicPrefix[] = "mmap lm http://kheafield.com/code";
constexpr char kMagicV5[] = "mmap lm http://kheafield.com/code format version 5\n";
constexpr char kIncomplete[] = "mmap lm http://kheafield.com/code incomplete\n";
constexpr size_t kSanitySize = 88, kFixedSize = 20;
constexpr const char* kModelNames[6] = {"probing",        "rest probing",       "trie",
                                        "quantized trie", "trie with -a",       "quantized trie with -a"};

bool sanity_matches(const uint8_t* p) {
  uint8_t want[kSanitySize] = {};
  std::memcpy(want, kMagicV5, sizeof kMagicV5);  // includes the explicit and the implicit NUL
  const float floats[3] = {0.0f, 1.0f, -0.5f};
  const uint32_t words[3] = {1, 0xFFFFFFFFu, 0};
  const uint64_t one = 1;
  std::memcpy(want + 56, floats, 12);
  std::memcpy(want + 68, words, 12);
  std::memcpy(want + 80, &one, 8);
  return std::memcmp(p, want, kSanitySize) == 0;
}

class Mapping {
 public:
  // Read into huge-page memory, as kenlm_benchmark loads (load_method READ): its hash tables
  // are probed at random, and 4 KiB pages made w2v's lookups TLB-bound.
  explicit Mapping(const std::string& path) {
    size_t size = 0;
    data_ = static_cast<const uint8_t*>(read_model_file(path, &size));
    size_ = size;
  }
  ~Mapping() { release_model_memory(const_cast<uint8_t*>(data_), size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Walks the file's sections in order, refusing any that would end past the file.
class Layout {
 public:
  Layout(const std::string& path, const Mapping& map, uint64_t start) : path_(path), map_(map), at_(start) {}
  const uint8_t* take(u128 bytes, const char* what) {
    if (u128{at_} + bytes > map_.size())
      throw file_error(path_, 0, fmt::format("KenLM binary is truncated: its {} ends past the end of the file", what));
    const uint8_t* p = map_.data() + at_;
    at_ += static_cast<uint64_t>(bytes);
    return p;
  }
  // The next `bytes` bytes without moving past them.
  const uint8_t* peek(u128 bytes, const char* what) {
    const uint8_t* p = take(bytes, what);
    at_ -= static_cast<uint64_t>(bytes);
    return p;
  }
  uint64_t at() const { return at_; }

 private:
  const std::string& path_;
  const Mapping& map_;
  uint64_t at_;
};

struct Header {
  int order = 0;
  float multiplier = 0;
  int type = 0;
  bool has_words = false;
  uint64_t counts[kMaxOrder] = {};
  uint64_t size = 0;  // header bytes, 8-aligned
};

Header read_header(const std::string& path, const Mapping& map) {
  const uint8_t* p = map.data();
  auto bad = [&](const std::string& what) { return file_error(path, 0, what); };
  if (map.size() >= sizeof kIncomplete - 1 && std::memcmp(p, kIncomplete, sizeof kIncomplete - 1) == 0)
    throw bad("this KenLM binary did not finish building (build_binary failed or was killed)");
  const size_t prefix = sizeof kMagicPrefix - 1;
  const std::string version_field = " format version ";
  if (map.size() < kSanitySize || !sanity_matches(p)) {
    if (map.size() > prefix + version_field.size() &&
        std::memcmp(p + prefix, version_field.data(), version_field.size()) == 0 &&
        std::memcmp(p + prefix + version_field.size(), "5\n", 2) != 0) {
      const char* v = reinterpret_cast<const char*>(p + prefix + version_field.size());
      size_t n = 0;
      while (n < 8 && prefix + version_field.size() + n < map.size() && v[n] >= '0' && v[n] <= '9') ++n;
      throw bad(fmt::format("KenLM binary format version {}; w2v reads version 5 (rebuild it from the ARPA with build_binary)",
                            std::string(v, n)));
    }
    throw bad("KenLM binary written by another architecture or type sizes (its test values do not match); rebuild it here");
  }
  if (map.size() < kSanitySize + kFixedSize) throw bad("KenLM binary is truncated inside its header");
  Header h;
  float multiplier;
  int32_t type;
  uint32_t search_version;
  h.order = p[kSanitySize];
  std::memcpy(&multiplier, p + kSanitySize + 4, 4);
  std::memcpy(&type, p + kSanitySize + 8, 4);
  h.has_words = p[kSanitySize + 12] != 0;
  std::memcpy(&search_version, p + kSanitySize + 16, 4);
  h.multiplier = multiplier;
  h.type = type;
  if (type < 0 || type > 5) throw bad(fmt::format("unknown KenLM model type {}", type));
  const unsigned want_version = type <= 1 ? 0 : 1;
  if (search_version != want_version)
    throw bad(fmt::format("KenLM {} structure version {}; w2v reads version {}", kModelNames[type], search_version, want_version));
  if (h.order < 2 || h.order > kMaxOrder)
    throw bad(fmt::format("KenLM binary of order {}; w2v reads orders 2 to {}", h.order, kMaxOrder));
  if (!(multiplier >= 1.0f && multiplier <= 100.0f))
    throw bad(fmt::format("KenLM binary with probing multiplier {} (expected 1 to 100)", multiplier));
  const uint64_t fixed_end = kSanitySize + kFixedSize;
  h.size = (fixed_end + 8 * h.order + 7) / 8 * 8;
  if (map.size() < h.size) throw bad("KenLM binary is truncated inside its header");
  for (int k = 0; k < h.order; ++k) {
    std::memcpy(&h.counts[k], p + fixed_end + 8 * k, 8);
    if ((k == 0 && h.counts[k] == 0) || h.counts[k] >= (uint64_t{1} << 56))
      throw bad(fmt::format("KenLM binary declares {} {}-grams", h.counts[k], k + 1));
  }
  if (h.counts[0] >= 0xFFFFFFF0u) throw bad("KenLM binary declares more words than 32-bit word ids hold");
  return h;
}

// KenLM's probing table size: max(entries + 1, multiplier * entries) buckets.
uint64_t probing_buckets(uint64_t entries, float multiplier) {
  return std::max<uint64_t>(entries + 1, static_cast<uint64_t>(multiplier * static_cast<float>(entries)));
}

template <class Search>
class KenlmModel final : public BackoffModel {
 public:
  KenlmModel(std::unique_ptr<Mapping> map, const Header& h, const Search& search)
      : map_(std::move(map)), search_(search), order_(h.order) {
    bos_ = search_.index("<s>");
    eos_ = search_.index("</s>");
  }

  // Word strings: "<unk>\0" then every word by id, NUL-terminated, from `at` to the end.
  void read_words(const std::string& path, uint64_t at) {
    const char* p = reinterpret_cast<const char*>(map_->data());
    const uint64_t end = map_->size();
    offsets_.reserve(search_.bound + 1);
    for (uint64_t i = at; offsets_.size() < search_.bound && i < end;) {
      const void* nul = std::memchr(p + i, 0, end - i);
      if (!nul) break;
      offsets_.push_back(i);
      i = static_cast<uint64_t>(static_cast<const char*>(nul) - p) + 1;
    }
    if (offsets_.size() < search_.bound || std::string_view(p + at) != "<unk>")
      throw file_error(path, 0, fmt::format("KenLM binary's vocabulary strings are truncated or misplaced ({} of {} words)",
                                            offsets_.size(), search_.bound));
  }

  int order() const override { return order_; }
  State begin() const override {
    State s;
    s.words[0] = bos_;
    s.length = 1;
    typename Search::Node node;
    float prob;
    bool independent;
    search_.unigram(bos_, node, prob, s.backoff[0], independent);
    return s;
  }
  State null_context() const override { return State(); }
  WordIndex unk_index() const override { return 0; }
  size_t vocab_size() const override { return search_.bound; }
  WordIndex bos_index() const override { return bos_; }
  WordIndex eos_index() const override { return eos_; }
  WordIndex index(std::string_view word) const override { return search_.index(word); }
  bool has_words() const override { return !offsets_.empty(); }
  std::string_view word(WordIndex id) const override {
    if (id >= offsets_.size()) return {};
    return std::string_view(reinterpret_cast<const char*>(map_->data()) + offsets_[id]);
  }

  // KenLM's FullScore: the longest match walking the context from the nearest word, stopping
  // where the n-gram cannot extend left; then the backoffs of the state's longer contexts.
  using BackoffModel::score;
  float score(const State& in, WordIndex word, State* out_state, int* ngram_length) const override {
    if (word >= search_.bound) word = 0;
    State& out = *out_state;
    float prob;
    typename Search::Node node;
    bool independent;
    search_.unigram(word, node, prob, out.backoff[0], independent);
    int length = 1, keep = has_extension(out.backoff[0]) ? 1 : 0;
    const int context = std::min<int>(in.length, order_ - 1);
    typename Search::Prefetched fetched;
    search_.prefetch(word, in.words.data(), independent ? 0 : context, order_, fetched);
    for (int j = 0; j < context && !independent; ++j) {
      if (j == order_ - 2) {
        float p;
        if (search_.find_longest(fetched, j, node, p)) {
          prob = p;
          length = order_;
        }
        break;
      }
      float p;
      if (!search_.find_middle(j, fetched, node, p, out.backoff[j + 1], independent)) break;
      prob = p;
      length = j + 2;
      if (has_extension(out.backoff[j + 1])) keep = j + 2;
    }
    // The backoffs of the state's contexts longer than the match, in KenLM's order.
    for (int j = length - 1; j < context; ++j) prob += in.backoff[j];
    if (ngram_length) *ngram_length = length;
    out.length = static_cast<uint8_t>(keep);
    out.words[0] = word;  // only words[0, keep) count (State); the rest is left as it was
    for (int i = 1; i < keep; ++i) out.words[i] = in.words[i - 1];
    return prob;
  }
  void score_words(State* state, const WordIndex* words, size_t n, float* probs, int* lengths) const override {
    score_sequence(*this, state, words, n, probs, lengths);
  }

 private:
  std::unique_ptr<Mapping> map_;
  Search search_;
  int order_;
  WordIndex bos_ = 0, eos_ = 0;
  std::vector<uint64_t> offsets_;
};

ProbingTable probing_table(Layout& layout, uint64_t entries, float multiplier, uint32_t stride, const char* what) {
  ProbingTable t;
  t.buckets = probing_buckets(entries, multiplier);
  t.stride = stride;
  t.base = layout.take(u128{t.buckets} * stride, what);
  return t;
}

std::unique_ptr<BackoffModel> open_probing(const std::string& path, std::unique_ptr<Mapping> map, const Header& h) {
  Layout layout(path, *map, h.size);
  ProbingSearch s;
  const uint8_t* vocab_header = layout.take(8, "vocabulary header");
  if (load32(vocab_header) != 0)
    throw file_error(path, 0, fmt::format("KenLM probing vocabulary version {}; w2v reads version 0", load32(vocab_header)));
  s.bound = load32(vocab_header + 4);
  if (s.bound == 0 || s.bound > h.counts[0] + 1)
    throw file_error(path, 0, fmt::format("KenLM binary has {} words but {} 1-grams", s.bound, h.counts[0]));
  s.vocab = probing_table(layout, h.counts[0], h.multiplier, 12, "vocabulary");
  s.weights_size = h.type == 1 ? 12 : 8;
  s.unigrams = layout.take(u128{h.counts[0] + 1} * s.weights_size, "1-grams");
  const uint32_t middle_stride = h.type == 1 ? 20 : 16;
  std::string names[kMaxOrder];
  for (int n = 2; n < h.order; ++n) {
    names[n] = fmt::format("{}-grams", n);
    s.middle[n - 2] = probing_table(layout, h.counts[n - 1], h.multiplier, middle_stride, names[n].c_str());
  }
  const std::string longest = fmt::format("{}-grams", h.order);
  s.longest = probing_table(layout, h.counts[h.order - 1], h.multiplier, 12, longest.c_str());
  auto model = std::make_unique<KenlmModel<ProbingSearch>>(std::move(map), h, s);
  if (h.has_words) model->read_words(path, layout.at());
  return model;
}

// Bhiksha's choice of how many high pointer bits go to the offset array (KenLM's ChopBits).
uint8_t chop_bits(uint64_t max_offset, uint64_t max_next, uint8_t configured) {
  const uint8_t required = required_bits(max_next);
  uint8_t best = 0;
  int64_t lowest = INT64_MAX;
  for (uint8_t chop = 0; chop <= std::min(required, configured); ++chop) {
    const int64_t change = static_cast<int64_t>((max_next >> (required - chop)) * 64) -
                           static_cast<int64_t>(max_offset) * static_cast<int64_t>(chop);
    if (change < lowest) {
      lowest = change;
      best = chop;
    }
  }
  return best;
}

// One trie order: [bhiksha header + offset array] then the bit-packed records.
TrieLevel trie_level(Layout& layout, uint64_t entries, uint64_t vocab, uint64_t next_entries, uint8_t value_bits,
                     bool middle, int bhiksha_bits, const std::string& path, const std::string& what) {
  TrieLevel l;
  l.entries = entries;
  l.next_entries = next_entries;
  l.word_bits = required_bits(vocab);
  l.word_mask = (uint64_t{1} << l.word_bits) - 1;
  l.value_bits = value_bits;
  if (middle) {
    const uint8_t required = required_bits(next_entries);
    if (bhiksha_bits >= 0) {
      const uint8_t chop = chop_bits(entries + 1, next_entries, static_cast<uint8_t>(bhiksha_bits));
      l.offset_count = (next_entries >> (required - chop)) + 1;
      const uint8_t* start = layout.take(8 * u128{1 + l.offset_count} + 7, (what + " pointer array").c_str());
      if (start[0] != 0)
        throw file_error(path, 0, fmt::format("KenLM pointer-array (-a) version {}; w2v reads version 0", start[0]));
      const uint64_t aligned = (reinterpret_cast<uintptr_t>(start) + 7) / 8 * 8;
      l.offsets = reinterpret_cast<const uint8_t*>(aligned) + 8;
      l.next_bits = required - chop;
    } else {
      l.next_bits = required;
    }
    l.next_mask = (uint64_t{1} << l.next_bits) - 1;
  }
  l.total_bits = l.word_bits + l.value_bits + l.next_bits;
  l.base = layout.take((u128{1 + entries} * l.total_bits + 7) / 8 + 8, what.c_str());
  return l;
}

std::unique_ptr<BackoffModel> open_trie(const std::string& path, std::unique_ptr<Mapping> map, const Header& h) {
  Layout layout(path, *map, h.size);
  TrieSearch s;
  const uint8_t* vocab = layout.take(8 * u128{1 + h.counts[0]}, "vocabulary");
  s.vocab_entries = load64(vocab);
  if (s.vocab_entries >= h.counts[0] + 1)
    throw file_error(path, 0, fmt::format("KenLM binary has {} words but {} 1-grams", s.vocab_entries + 1, h.counts[0]));
  s.vocab = vocab + 8;
  s.bound = static_cast<WordIndex>(s.vocab_entries + 1);
  const bool quantized = h.type == 3 || h.type == 5, bhiksha = h.type == 4 || h.type == 5;
  const uint8_t* quant = nullptr;
  uint8_t prob_bits = 0, backoff_bits = 0;
  if (quantized) {
    const uint8_t* q = layout.take(3, "quantization header");
    if (q[0] != 2) throw file_error(path, 0, fmt::format("KenLM quantization version {}; w2v reads version 2", q[0]));
    prob_bits = q[1];
    backoff_bits = q[2];
    if (prob_bits < 1 || prob_bits > 25 || backoff_bits < 1 || backoff_bits > 25)
      throw file_error(path, 0, fmt::format("KenLM quantization with {} probability and {} backoff bits (1 to 25 each)",
                                            prob_bits, backoff_bits));
    const u128 middle_table = (u128{1} << prob_bits) * 4 + (u128{1} << backoff_bits) * 4;
    quant = layout.take(u128(h.order - 2) * middle_table + (u128{1} << prob_bits) * 4 + 5, "quantization tables") + 5;
  }
  s.unigram_count = h.counts[0];
  s.unigrams = layout.take(16 * u128{h.counts[0] + 2}, "1-grams");
  s.bigram_entries = h.counts[1];
  int bhiksha_bits = -1;
  if (bhiksha) {
    bhiksha_bits = 22;  // KenLM's default; files of order > 2 store theirs in the first middle
    if (h.order > 2) bhiksha_bits = layout.peek(2, "pointer array header")[1];
  }
  for (int n = 2; n < h.order; ++n) {
    const uint8_t value_bits = quantized ? prob_bits + backoff_bits : 63;
    TrieLevel& l = s.middle[n - 2] = trie_level(layout, h.counts[n - 1], h.counts[0], h.counts[n], value_bits, true,
                                                bhiksha_bits, path, fmt::format("{}-grams", n));
    if (quantized) {
      l.prob_bins = quant + (n - 2) * ((size_t{4} << prob_bits) + (size_t{4} << backoff_bits));
      l.backoff_bins = l.prob_bins + (size_t{4} << prob_bits);
      l.prob_bits = prob_bits;
      l.backoff_bits = backoff_bits;
    }
  }
  TrieLevel& l = s.longest = trie_level(layout, h.counts[h.order - 1], h.counts[0], 0, quantized ? prob_bits : 31,
                                        false, -1, path, fmt::format("{}-grams", h.order));
  if (quantized) {
    l.prob_bins = quant + (h.order - 2) * ((size_t{4} << prob_bits) + (size_t{4} << backoff_bits));
    l.prob_bits = prob_bits;
  }
  auto model = std::make_unique<KenlmModel<TrieSearch>>(std::move(map), h, s);
  if (h.has_words) model->read_words(path, layout.at());
  return model;
}

}  // namespace

bool is_kenlm_binary(const std::string& path) {
  char start[sizeof kMagicPrefix - 1] = {};
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  const ssize_t got = ::read(fd, start, sizeof start);
  ::close(fd);
  return got == static_cast<ssize_t>(sizeof start) && std::memcmp(start, kMagicPrefix, sizeof start) == 0;
}

std::unique_ptr<BackoffModel> open_kenlm_binary(const std::string& path) {
  auto map = std::make_unique<Mapping>(path);
  const Header h = read_header(path, *map);
  if (h.type <= 1) return open_probing(path, std::move(map), h);
  return open_trie(path, std::move(map), h);
}

}  // namespace w2v::lm
