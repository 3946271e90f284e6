// KenLM's probing binary written from an ARPA file, as build_binary writes it (format version 5,
// probing multiplier 1.5, vocabulary strings included); read back by lm/kenlm_model.cpp.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <ostream>
#include <vector>

#include "lm/arpa.h"
#include "lm/kenlm_model.h"
#include "lm/kenlm_search.h"
#include "lm/model_memory.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::lm {

namespace {

using namespace kenlm;

constexpr float kMultiplier = 1.5f;

void store32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
void store_float(uint8_t* p, float f) { std::memcpy(p, &f, 4); }
float load_float(const uint8_t* p) { return as_float(load32(p)); }
void set_sign(uint8_t* p, bool on) { store32(p, on ? load32(p) | kSignBit : load32(p) & ~kSignBit); }

// A probing table being filled: KenLM's linear probing from hash % buckets, key 0 = empty.
struct Table {
  uint8_t* base = nullptr;
  uint64_t buckets = 0;
  uint32_t stride = 0;
  uint8_t* insert(uint64_t key) {
    for (uint64_t i = key % buckets;; i = i + 1 == buckets ? 0 : i + 1) {
      uint8_t* e = base + i * stride;
      const uint64_t got = load64(e);
      if (got == key) return nullptr;  // duplicate
      if (got == 0) {
        store64(e, key);
        return e;
      }
    }
  }
  uint8_t* find(uint64_t key) const {
    ProbingTable t{base, buckets, stride};
    return const_cast<uint8_t*>(t.find(key));
  }
};

uint64_t buckets_for(uint64_t entries) {
  return std::max<uint64_t>(entries + 1, static_cast<uint64_t>(kMultiplier * static_cast<float>(entries)));
}

// The file's image, built in huge-page memory (lm/model_memory.h) as build_binary builds in
// util::HugeMalloc's: zero pages until entries land, and with 4 KiB pages the page faults of
// the randomly filled tables cost more system time than the writing.
class Image {
 public:
  Image(uint64_t size, const std::string& path) : data_(static_cast<uint8_t*>(model_memory(size, path))), size_(size) {}
  ~Image() { release_model_memory(data_, size_); }
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;
  uint8_t* data() { return data_; }

 private:
  uint8_t* data_;
  uint64_t size_;
};

}  // namespace

ProbingFileSummary write_kenlm_probing(const std::string& arpa_path, const std::string& out_path) {
  std::vector<uint64_t> counts;
  std::unique_ptr<Image> memory;
  uint64_t header_size = 0, total = 0;
  Table vocab, middle[kMaxOrder], longest;
  uint8_t* unigrams = nullptr;
  std::string strings("<unk>", 6);
  WordIndex bound = 1;
  bool saw_unk = false;
  const uint64_t unk_hash = murmur_hash64a("<unk>", 5, 0), cap_unk_hash = murmur_hash64a("<UNK>", 5, 0);

  auto on_header = [&](const std::vector<uint64_t>& c) {
    counts = c;
    const int order = static_cast<int>(c.size());
    if (order < 2 || order > kMaxOrder)
      throw file_error(arpa_path, 0,
                       fmt::format("a KenLM binary needs order 2 to {}, this model has order {} (pass the ARPA "
                                   "itself wherever an LM is taken)",
                                   kMaxOrder, order));
    header_size = (88 + 20 + 8 * uint64_t(order) + 7) / 8 * 8;
    uint64_t at = header_size;
    vocab = Table{nullptr, buckets_for(c[0]), 12};
    const uint64_t vocab_at = at + 8;
    at = vocab_at + vocab.buckets * 12;
    const uint64_t unigrams_at = at;
    at += (c[0] + 1) * 8;
    uint64_t middle_at[kMaxOrder];
    for (int n = 2; n < order; ++n) {
      middle[n - 2] = Table{nullptr, buckets_for(c[n - 1]), 16};
      middle_at[n - 2] = at;
      at += middle[n - 2].buckets * 16;
    }
    longest = Table{nullptr, buckets_for(c[order - 1]), 12};
    const uint64_t longest_at = at;
    total = at + longest.buckets * 12;
    memory = std::make_unique<Image>(total, out_path);
    uint8_t* base = memory->data();
    vocab.base = base + vocab_at;
    unigrams = base + unigrams_at;
    for (int n = 2; n < order; ++n) middle[n - 2].base = base + middle_at[n - 2];
    longest.base = base + longest_at;
  };

  std::vector<WordIndex> ids;  // the n-gram's ids, last word first
  std::vector<uint64_t> keys;
  auto on_ngram = [&](const ArpaNgram& g) {
    const int n = g.order, order = static_cast<int>(counts.size());
    const float prob = g.log10_prob > 0 ? 0.0f : g.log10_prob;  // KenLM clamps positive log probs
    // ARPA zero backoffs become -0.0, "extends nothing"; contexts are set to +0.0 below.
    const float backoff = g.log10_backoff == 0.0f ? -0.0f : g.log10_backoff;
    if (n == 1) {
      const std::string_view word = g.words[0];
      const uint64_t hash = murmur_hash64a(word.data(), word.size(), 0);
      WordIndex id = 0;
      if (hash == unk_hash || hash == cap_unk_hash) {
        saw_unk = true;
      } else {
        uint8_t* e = vocab.insert(hash);
        if (!e) throw file_error(arpa_path, g.line, fmt::format("duplicate 1-gram '{}'", word));
        id = bound++;
        store32(e + 8, id);
        strings.append(word.data(), word.size()).push_back('\0');
      }
      store_float(unigrams + 8 * uint64_t{id}, prob);
      store_float(unigrams + 8 * uint64_t{id} + 4, backoff);
      return;
    }
    ids.assign(n, 0);
    for (int i = 0; i < n; ++i) {
      const std::string_view word = g.words[n - 1 - i];
      const uint64_t hash = murmur_hash64a(word.data(), word.size(), 0);
      if (hash == unk_hash || hash == cap_unk_hash) continue;
      const uint8_t* e = vocab.find(hash);
      if (!e) throw file_error(arpa_path, g.line, fmt::format("word '{}' of this {}-gram is not in the 1-grams", word, n));
      ids[i] = load32(e + 8);
    }
    keys.assign(n - 1, 0);
    keys[0] = combine_word_hash(ids[0], ids[1]);
    for (int h = 1; h < n - 1; ++h) keys[h] = combine_word_hash(keys[h - 1], ids[h + 1]);
    Table& table = n == order ? longest : middle[n - 2];
    uint8_t* e = table.insert(keys[n - 2]);
    if (!e) throw file_error(arpa_path, g.line, fmt::format("duplicate {}-gram", n));
    store_float(e + 8, prob);
    set_sign(e + 8, true);  // does not extend left until a longer n-gram ends with it
    if (n < order) store_float(e + 12, backoff);
    // The suffix extends left; the context extends right (KenLM's FindLower and Activate).
    uint8_t* suffix = n == 2 ? unigrams + 8 * uint64_t{ids[0]} : middle[n - 3].find(keys[n - 3]);
    if (!suffix) throw file_error(arpa_path, g.line, fmt::format("the suffix (last {} words) of this {}-gram is not listed", n - 1, n));
    set_sign(n == 2 ? suffix : suffix + 8, false);
    uint8_t* context_backoff;
    if (n == 2) {
      context_backoff = unigrams + 8 * uint64_t{ids[1]} + 4;
    } else {
      uint64_t hash = ids[1];
      for (int i = 2; i < n; ++i) hash = combine_word_hash(hash, ids[i]);
      uint8_t* c = middle[n - 3].find(hash);
      if (!c) throw file_error(arpa_path, g.line, fmt::format("the context (first {} words) of this {}-gram is not listed", n - 1, n));
      context_backoff = c + 12;
    }
    if (!has_extension(load_float(context_backoff))) store_float(context_backoff, 0.0f);
  };

  ArpaReader::read(arpa_path, on_header, on_ngram);
  uint8_t* base = memory->data();
  if (!saw_unk) {  // KenLM's default for a missing <unk>
    store_float(unigrams, -100.0f);
    store_float(unigrams + 4, 0.0f);
  }
  store32(base + header_size, 0);  // probing vocabulary version
  store32(base + header_size + 4, bound);
  // Header: the magic line and test values, then FixedWidthParameters and the counts.
  const char magic[] = "mmap lm http://kheafield.com/code format version 5\n";
  std::memcpy(base, magic, sizeof magic);  // with its NUL; KenLM's has one more, zero already
  const float floats[3] = {0.0f, 1.0f, -0.5f};
  const uint32_t words[3] = {1, 0xFFFFFFFFu, 0};
  std::memcpy(base + 56, floats, 12);
  std::memcpy(base + 68, words, 12);
  store64(base + 80, 1);
  base[88] = static_cast<uint8_t>(counts.size());
  store_float(base + 92, kMultiplier);
  store32(base + 96, 0);  // model type: probing
  base[100] = 1;          // has the vocabulary strings
  store32(base + 104, 0);  // probing search version
  for (size_t k = 0; k < counts.size(); ++k) store64(base + 108 + 8 * k, counts[k]);
  write_atomic(out_path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(base), static_cast<std::streamsize>(total));
    out.write(strings.data(), static_cast<std::streamsize>(strings.size()));
  });
  return {static_cast<int>(counts.size()), size_t{bound}};
}

}  // namespace w2v::lm
