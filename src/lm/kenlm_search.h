// The lookup structures of KenLM's binary files, over mapped memory (internal to kenlm_model.cpp).
// Layout facts are KenLM's (lm/search_hashed, lm/trie, lm/quantize, lm/bhiksha, lm/vocab,
// util/probing_hash_table, util/bit_packing); the code is w2v's. Every read stays inside the
// section kenlm_model.cpp sized and checked against the file; pointers read from the file are
// checked before they index anything, so a corrupt file gives wrong scores at worst.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "lm/language_model.h"

namespace w2v::lm::kenlm {

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
constexpr uint32_t kSignBit = 0x80000000u;

// KenLM marks "this n-gram is the context of no longer one" by a backoff of -0.0.
inline bool has_extension(float backoff) {
  uint32_t bits;
  std::memcpy(&bits, &backoff, 4);
  return bits != kSignBit;
}

// Bits needed for values up to max (0 for 0), KenLM's util::RequiredBits.
inline uint8_t required_bits(uint64_t max) {
  uint8_t bits = 0;
  while (max) {
    ++bits;
    max >>= 1;
  }
  return bits;
}

// Little-endian bit fields of up to 57 (read64) or 25 (read32) bits at a bit offset.
inline uint64_t read_bits57(const uint8_t* base, uint64_t bit, uint64_t mask) {
  return (load64(base + (bit >> 3)) >> (bit & 7)) & mask;
}
inline uint32_t read_bits25(const uint8_t* base, uint64_t bit, uint32_t mask) {
  return (load32(base + (bit >> 3)) >> (bit & 7)) & mask;
}

uint64_t murmur_hash64a(const void* key, size_t length, uint64_t seed);

// Hash of an n-gram, grown from the predicted word backwards through its context.
inline uint64_t combine_word_hash(uint64_t current, WordIndex next) {
  return (current * 8978948897894561157ULL) ^ ((uint64_t{next} + 1) * 17894857484156487943ULL);
}

// A linear-probing table (hash % buckets, key 0 = empty) of `stride`-byte entries, key first.
struct ProbingTable {
  const uint8_t* base = nullptr;
  uint64_t buckets = 0;
  uint32_t stride = 0;
  const uint8_t* find(uint64_t key) const { return find_from(key, key % buckets); }
  // Bucket of a key, and a prefetch of it (find_from(key, bucket) then finds it without waiting).
  uint64_t prefetch(uint64_t key) const {
    const uint64_t i = key % buckets;
    __builtin_prefetch(base + i * stride);
    return i;
  }
  const uint8_t* find_from(uint64_t key, uint64_t i) const {
    for (uint64_t probes = 0; probes < buckets; ++probes) {  // a full (corrupt) table ends too
      const uint8_t* entry = base + i * stride;
      const uint64_t got = load64(entry);
      if (got == key) return entry;
      if (got == 0) return nullptr;
      if (++i == buckets) i = 0;
    }
    return nullptr;
  }
};

// build_binary's default "probing" structure (and "rest probing", whose extra rest cost query
// does not use). Probabilities carry a flag in their sign bit: set = independent of words
// further left.
struct ProbingSearch {
  using Node = uint64_t;
  ProbingTable vocab;            // MurmurHash64A of the word -> id (uint32 after the key)
  WordIndex bound = 0;           // ids are [0, bound); <unk> = 0 is not in the table
  const uint8_t* unigrams = nullptr;
  uint32_t weights_size = 8;     // prob, backoff [, rest]
  ProbingTable middle[kMaxOrder];
  ProbingTable longest;

  WordIndex index(std::string_view word) const {
    const uint8_t* e = vocab.find(murmur_hash64a(word.data(), word.size(), 0));
    if (!e) return 0;
    const uint32_t id = load32(e + 8);
    return id < bound ? id : 0;
  }
  static float flagged(uint32_t bits, bool& independent) {
    independent = bits & kSignBit;
    return as_float(bits | kSignBit);
  }
  void unigram(WordIndex word, Node& node, float& prob, float& backoff, bool& independent) const {
    const uint8_t* w = unigrams + uint64_t{word} * weights_size;
    prob = flagged(load32(w), independent);
    backoff = as_float(load32(w + 4));
    node = word;
  }
  // Keys and buckets of the n-grams (word, context[0..i]) for i < n, all prefetched: the keys
  // depend on the words only, so the lookups' cache misses overlap.
  struct Prefetched {
    uint64_t key[kMaxOrder], bucket[kMaxOrder];
  };
  void prefetch(WordIndex word, const WordIndex* context, int n, int order, Prefetched& p) const {
    Node node = word;
    for (int i = 0; i < n; ++i) {
      node = combine_word_hash(node, context[i]);
      p.key[i] = node;
      p.bucket[i] = (i == order - 2 ? longest : middle[i]).prefetch(node);
    }
  }
  bool find_middle(int order_minus_2, const Prefetched& p, Node& node, float& prob, float& backoff, bool& independent) const {
    node = p.key[order_minus_2];
    const uint8_t* e = middle[order_minus_2].find_from(node, p.bucket[order_minus_2]);
    if (!e) {
      independent = true;
      return false;
    }
    prob = flagged(load32(e + 8), independent);
    backoff = as_float(load32(e + 12));
    return true;
  }
  bool find_longest(const Prefetched& p, int order_minus_2, const Node&, float& prob) const {
    const uint8_t* e = longest.find_from(p.key[order_minus_2], p.bucket[order_minus_2]);
    if (e) prob = as_float(load32(e + 8));
    return e != nullptr;
  }
};

// One order of a trie: bit-packed records [word id | value bits | next pointer] sorted by word
// inside each parent's range; `next` is the record's child range in the next order.
struct TrieLevel {
  const uint8_t* base = nullptr;
  uint64_t entries = 0;        // records of this order
  uint64_t next_entries = 0;   // records of the next order: child ranges must lie inside
  uint8_t total_bits = 0, word_bits = 0, value_bits = 0, next_bits = 0;
  uint64_t word_mask = 0, next_mask = 0;
  const uint8_t* offsets = nullptr;  // bhiksha: high bits of next pointers (uint64 array), or null
  uint64_t offset_count = 0;
  const uint8_t* prob_bins = nullptr;     // quantized: 2^prob_bits floats
  const uint8_t* backoff_bins = nullptr;  // quantized middle orders: 2^backoff_bits floats
  uint8_t prob_bits = 0, backoff_bits = 0;

  // Record index of `word` in [range.begin, range.end), or false.
  bool find(WordIndex word, uint64_t begin, uint64_t end, uint64_t& at) const {
    if (end > entries || begin > end) return false;
    while (begin < end) {
      const uint64_t mid = begin + (end - begin) / 2;
      const uint64_t got = read_bits57(base, mid * total_bits, word_mask);
      if (got < word) {
        begin = mid + 1;
      } else if (got > word) {
        end = mid;
      } else {
        at = mid;
        return true;
      }
    }
    return false;
  }
  uint64_t offset_at(uint64_t i) const { return load64(offsets + 8 * i); }
  // Child range of record `at` (KenLM's ReadNext, with bhiksha's high-bit array when present).
  void children(uint64_t at, uint64_t& begin, uint64_t& end) const {
    const uint64_t bit = at * total_bits + word_bits + value_bits;
    begin = read_bits57(base, bit, next_mask);
    end = read_bits57(base, bit + total_bits, next_mask);
    if (offsets) {
      // Last array slot <= at, and last slot <= at + 1: the high bits of the two pointers.
      uint64_t lo = 0, hi = offset_count;
      while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (offset_at(mid) <= at) lo = mid + 1; else hi = mid;
      }
      if (lo == 0) {  // corrupt: the array must start with 0
        begin = end = 0;
        return;
      }
      uint64_t high_end = lo;
      while (high_end < offset_count && offset_at(high_end) <= at + 1) ++high_end;
      begin |= (lo - 1) << next_bits;
      end |= (high_end - 1) << next_bits;
    }
    if (end > next_entries || begin > end) begin = end = 0;
  }
  float bin(const uint8_t* bins, uint64_t i) const { return as_float(load32(bins + 4 * i)); }
  void middle_values(uint64_t at, float& prob, float& backoff) const {
    const uint64_t bit = at * total_bits + word_bits;
    if (prob_bins) {
      backoff = bin(backoff_bins, read_bits25(base, bit, (1u << backoff_bits) - 1));
      prob = bin(prob_bins, read_bits25(base, bit + backoff_bits, (1u << prob_bits) - 1));
    } else {
      prob = as_float(static_cast<uint32_t>(read_bits57(base, bit, 0x7FFFFFFF)) | kSignBit);
      backoff = as_float(static_cast<uint32_t>(read_bits57(base, bit + 31, 0xFFFFFFFF)));
    }
  }
  float longest_prob(uint64_t at) const {
    const uint64_t bit = at * total_bits + word_bits;
    if (prob_bins) return bin(prob_bins, read_bits25(base, bit, (1u << prob_bits) - 1));
    return as_float(static_cast<uint32_t>(read_bits57(base, bit, 0x7FFFFFFF)) | kSignBit);
  }
};

// build_binary's "trie" structure, with -q/-b quantization and -a array-compressed pointers.
// Its vocabulary is the sorted array of word hashes: id = position + 1 (<unk> = 0).
struct TrieSearch {
  struct Node {
    uint64_t begin = 0, end = 0;
  };
  const uint8_t* vocab = nullptr;  // sorted uint64 hashes
  uint64_t vocab_entries = 0;
  WordIndex bound = 0;
  const uint8_t* unigrams = nullptr;  // records {float prob, float backoff, uint64 next}
  uint64_t unigram_count = 0;
  uint64_t bigram_entries = 0;
  TrieLevel middle[kMaxOrder];
  TrieLevel longest;

  WordIndex index(std::string_view word) const {
    const uint64_t key = murmur_hash64a(word.data(), word.size(), 0);
    uint64_t lo = 0, hi = vocab_entries;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      const uint64_t got = load64(vocab + 8 * mid);
      if (got < key) {
        lo = mid + 1;
      } else if (got > key) {
        hi = mid;
      } else {
        return static_cast<WordIndex>(mid + 1);
      }
    }
    return 0;
  }
  void unigram(WordIndex word, Node& node, float& prob, float& backoff, bool& independent) const {
    const uint8_t* u = unigrams + 16 * uint64_t{word};
    prob = as_float(load32(u));
    backoff = as_float(load32(u + 4));
    node.begin = load64(u + 8);
    node.end = load64(u + 24);
    if (node.end > bigram_entries || node.begin > node.end) node.begin = node.end = 0;
    independent = node.begin == node.end;
  }
  // The trie's lookups depend on each other (a child range comes from its parent): nothing to
  // prefetch; the context is kept for the finds.
  struct Prefetched {
    const WordIndex* context;
  };
  void prefetch(WordIndex, const WordIndex* context, int, int, Prefetched& p) const { p.context = context; }
  bool find_middle(int order_minus_2, const Prefetched& p, Node& node, float& prob, float& backoff, bool& independent) const {
    const WordIndex word = p.context[order_minus_2];
    const TrieLevel& level = middle[order_minus_2];
    uint64_t at;
    if (!level.find(word, node.begin, node.end, at)) {
      independent = true;
      return false;
    }
    level.children(at, node.begin, node.end);
    level.middle_values(at, prob, backoff);
    independent = node.begin == node.end;
    return true;
  }
  bool find_longest(const Prefetched& p, int order_minus_2, const Node& node, float& prob) const {
    const WordIndex word = p.context[order_minus_2];
    uint64_t at;
    if (!longest.find(word, node.begin, node.end, at)) return false;
    prob = longest.longest_prob(at);
    return true;
  }
};

}  // namespace w2v::lm::kenlm
