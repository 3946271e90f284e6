#include "lm/ngram_model.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <fstream>

#include "lm/arpa.h"
#include "lm/kenlm_model.h"
#include "lm/model_memory.h"
#include "util/error.h"

namespace w2v::lm {

namespace {

// The first bytes of the binary format w2v wrote before KenLM's (version 1): refused by name.
constexpr char kOldBinaryMagic[8] = {'w', '2', 'v', 'N', 'G', 'R', 'A', 'M'};

uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Bit 0 of a stored key is the "matters for the state" flag, so hashes compare on bits 1..63
// and must not be 0 there (0 marks an empty slot).
uint64_t nonzero(uint64_t h) { return (h >> 1) == 0 ? 2 : h; }

// Hash of an n-gram built from its last word backwards: seed(w), then extend with the previous
// words, so that score() can grow the context one word at a time.
uint64_t seed(WordIndex w) { return mix64(static_cast<uint64_t>(w) + 0x9E3779B97F4A7C15ULL); }
uint64_t extend(uint64_t h, WordIndex w) {
  return nonzero(mix64(h ^ (static_cast<uint64_t>(w) * 0xC2B2AE3D27D4EB4FULL + 0x165667B19E3779F9ULL)));
}

uint64_t hash_string(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return nonzero(mix64(h));
}

uint64_t table_buckets(uint64_t count) {
  uint64_t n = 2;
  while (n < count + count / 2 + 1) n <<= 1;
  return n;
}

uint64_t align8(uint64_t x) { return (x + 7) & ~uint64_t{7}; }

}  // namespace

// The arena's first bytes; offsets are from the arena's start.
struct NgramModel::Header {
  uint32_t order;
  uint32_t vocab_size;
  uint32_t vocab_capacity;  // unigram slots allocated (vocab_size or one more)
  uint32_t unk, bos, eos;
  uint64_t counts[kMaxOrder];
  uint64_t buckets[kMaxOrder];  // [0] vocabulary hash, [k] table of order k+1
  uint64_t offsets[kMaxOrder];  // [0] unigram array, [k] table of order k+1
  uint64_t vocab_offset, string_offsets_offset;
};

struct NgramModel::Entry {
  uint64_t key;  // unigrams: only bit 0 (state flag) is used
  float prob;
  float backoff;
};

struct NgramModel::VocabSlot {
  uint64_t key;
  uint32_t id;
  uint32_t reserved;
};

NgramModel::NgramModel() = default;

NgramModel::~NgramModel() {
  release_model_memory(map_, map_size_);
}

void NgramModel::attach(const char* base) {
  header_ = reinterpret_cast<const Header*>(base);
  for (uint32_t k = 0; k < header_->order; ++k)
    tables_[k] = reinterpret_cast<const Entry*>(base + header_->offsets[k]);
  vocab_ = reinterpret_cast<const VocabSlot*>(base + header_->vocab_offset);
  string_offsets_ = reinterpret_cast<const uint64_t*>(base + header_->string_offsets_offset);
}

const NgramModel::Entry* NgramModel::find(int order, uint64_t key) const {
  const Entry* table = tables_[order - 1];
  const uint64_t mask = header_->buckets[order - 1] - 1;
  // At most one lap: a (corrupt) table with no empty slot must not probe forever.
  for (uint64_t i = key & mask, probes = 0; probes <= mask; i = (i + 1) & mask, ++probes) {
    const uint64_t k = table[i].key;
    if (k == 0) return nullptr;
    if ((k ^ key) <= 1) return &table[i];
  }
  return nullptr;
}

int NgramModel::order() const { return static_cast<int>(header_->order); }
WordIndex NgramModel::unk_index() const { return header_->unk; }
WordIndex NgramModel::bos_index() const { return header_->bos; }
WordIndex NgramModel::eos_index() const { return header_->eos; }
size_t NgramModel::vocab_size() const { return header_->vocab_size; }
uint64_t NgramModel::ngram_count(int order) const { return header_->counts[order - 1]; }

std::string_view NgramModel::word(WordIndex id) const {
  if (id >= header_->vocab_size) return {};
  return std::string_view(strings_ + string_offsets_[id], string_offsets_[id + 1] - string_offsets_[id]);
}

WordIndex NgramModel::index(std::string_view word) const {
  const uint64_t key = hash_string(word);
  const uint64_t mask = header_->buckets[0] - 1;
  for (uint64_t i = key & mask, probes = 0; probes <= mask; i = (i + 1) & mask, ++probes) {
    const VocabSlot& slot = vocab_[i];
    if (slot.key == 0) break;
    if (slot.key == key && slot.id < header_->vocab_size && this->word(slot.id) == word) return slot.id;
  }
  return header_->unk;
}


State NgramModel::begin() const {
  State s;
  if (header_->order > 1 && (tables_[0][header_->bos].key & 1)) {
    s.words[0] = header_->bos;
    s.backoff[0] = tables_[0][header_->bos].backoff;
    s.length = 1;
  }
  return s;
}

float NgramModel::score(const State& state, WordIndex word, State* out, int* ngram_length) const {
  if (word >= header_->vocab_size) word = header_->unk;
  const Entry* unigram = &tables_[0][word];
  float log10_prob = unigram->prob;
  State& next = *out;
  next.backoff[0] = unigram->backoff;
  bool keeps[kMaxOrder];
  keeps[0] = unigram->key & 1;
  int matched = 0;  // context words of the longest listed n-gram
  const int order = static_cast<int>(header_->order);
  const int context = std::min<int>(state.length, order - 1);
  // Every context length's key depends on the words only, so all buckets are prefetched first:
  // their cache misses overlap instead of following one another (the lookups are memory-bound).
  uint64_t keys[kMaxOrder];
  uint64_t key = seed(word);
  for (int j = 1; j <= context; ++j) {
    key = extend(key, state.words[j - 1]);
    keys[j] = key;
    __builtin_prefetch(&tables_[j][key & (header_->buckets[j] - 1)]);
  }
  for (int j = 1; j <= context; ++j) {
    const Entry* e = find(j + 1, keys[j]);
    if (!e) break;
    log10_prob = e->prob;
    keeps[j] = e->key & 1;
    if (j < order - 1) next.backoff[j] = e->backoff;
    matched = j;
  }
  // Backoffs of the contexts longer than the match, from the state's cache.
  for (int j = matched; j < context; ++j) log10_prob += state.backoff[j];
  if (ngram_length) *ngram_length = matched + 1;
  int length = std::min(matched + 1, order - 1);
  while (length > 0 && !keeps[length - 1]) --length;
  next.length = static_cast<uint8_t>(length);
  next.words[0] = word;  // only words[0, length) count (State)
  for (int i = 1; i < length; ++i) next.words[i] = state.words[i - 1];
  return log10_prob;
}

void NgramModel::score_words(State* state, const WordIndex* words, size_t n, float* probs, int* lengths) const {
  score_sequence(*this, state, words, n, probs, lengths);
}

bool NgramModel::lookup(const std::vector<WordIndex>& ngram, float* log10_prob, float* log10_backoff) const {
  const int n = static_cast<int>(ngram.size());
  if (n < 1 || n > order()) return false;
  for (WordIndex w : ngram)
    if (w >= header_->vocab_size) return false;
  const Entry* e;
  if (n == 1) {
    e = &tables_[0][ngram[0]];
  } else {
    uint64_t key = seed(ngram[n - 1]);
    for (int i = n - 2; i >= 0; --i) key = extend(key, ngram[i]);
    e = find(n, key);
    if (!e) return false;
  }
  *log10_prob = e->prob;
  *log10_backoff = e->backoff;
  return true;
}

std::unique_ptr<NgramModel> NgramModel::from_arpa(const std::string& path) {
  std::unique_ptr<NgramModel> model(new NgramModel());
  NgramModel& m = *model;
  Header* header = nullptr;
  Entry* tables[kMaxOrder] = {};
  VocabSlot* vocab = nullptr;
  uint64_t* string_offsets = nullptr;
  uint32_t next_id = 0;
  std::vector<WordIndex> ids;

  auto insert_word = [&](std::string_view word, long line) {
    const uint64_t key = hash_string(word);
    const uint64_t mask = header->buckets[0] - 1;
    for (uint64_t i = key & mask;; i = (i + 1) & mask) {
      VocabSlot& slot = vocab[i];
      if (slot.key == 0) {
        slot.key = key;
        slot.id = next_id;
        break;
      }
      if (slot.key == key && m.word(slot.id) == word)
        throw file_error(path, line, fmt::format("duplicate 1-gram '{}'", word));
    }
    m.owned_strings_.append(word.data(), word.size());
    string_offsets[next_id + 1] = m.owned_strings_.size();
    m.strings_ = m.owned_strings_.data();
    header->vocab_size = ++next_id;
    return next_id - 1;
  };

  auto on_header = [&](const std::vector<uint64_t>& counts) {
    if (counts.size() > static_cast<size_t>(kMaxOrder))
      throw file_error(path, 0, fmt::format("order {} exceeds the maximum order {}", counts.size(), kMaxOrder));
    if (counts[0] >= 0xFFFFFFF0ull) throw file_error(path, 0, "too many 1-grams");
    Header h{};
    h.order = static_cast<uint32_t>(counts.size());
    h.vocab_capacity = static_cast<uint32_t>(counts[0] + 1);
    h.unk = h.bos = h.eos = kNoWord;
    for (size_t k = 0; k < counts.size(); ++k) h.counts[k] = counts[k];
    uint64_t offset = align8(sizeof(Header));
    h.offsets[0] = offset;
    offset += sizeof(Entry) * h.vocab_capacity;
    for (size_t k = 1; k < counts.size(); ++k) {
      h.buckets[k] = table_buckets(counts[k]);
      h.offsets[k] = offset;
      offset += sizeof(Entry) * h.buckets[k];
    }
    h.buckets[0] = table_buckets(h.vocab_capacity);
    h.vocab_offset = offset;
    offset += sizeof(VocabSlot) * h.buckets[0];
    h.string_offsets_offset = offset;
    offset += sizeof(uint64_t) * (h.vocab_capacity + 1);
    // Anonymous zero pages: a table sized by the header costs memory only where n-grams land,
    // so counts a file declares but does not contain cost address space, not RAM or time.
    // The header's counts are bounded by the file's length (ArpaReader), so huge pages touched
    // here stay within a few times the file's size.
    void* arena = model_memory(offset, path);
    m.map_ = arena;
    m.map_size_ = offset;
    char* base = static_cast<char*>(arena);
    std::memcpy(base, &h, sizeof h);
    m.attach(base);
    header = reinterpret_cast<Header*>(base);
    for (size_t k = 0; k < counts.size(); ++k) tables[k] = reinterpret_cast<Entry*>(base + h.offsets[k]);
    vocab = reinterpret_cast<VocabSlot*>(base + h.vocab_offset);
    string_offsets = reinterpret_cast<uint64_t*>(base + h.string_offsets_offset);
  };

  auto on_ngram = [&](ArpaNgram g) {
    const uint64_t flag = g.log10_backoff != 0.0f ? 1 : 0;
    // KenLM stores probabilities with the sign bit set, so query prints p = 1 as "-0".
    if (g.log10_prob == 0.0f) g.log10_prob = -0.0f;
    if (g.order == 1) {
      const WordIndex id = insert_word(g.words[0], g.line);
      tables[0][id] = Entry{flag, g.log10_prob, g.log10_backoff};
      if (g.words[0] == "<unk>") header->unk = id;
      if (g.words[0] == "<s>") header->bos = id;
      if (g.words[0] == "</s>") header->eos = id;
      return;
    }
    const int n = g.order;
    ids.resize(n);
    for (int i = 0; i < n; ++i) {
      ids[i] = m.index(g.words[i]);
      if (ids[i] == kNoWord || (ids[i] == header->unk && g.words[i] != "<unk>"))
        throw file_error(path, g.line, fmt::format("word '{}' of this {}-gram is not in the 1-grams", g.words[i], n));
    }
    uint64_t key = seed(ids[n - 1]);
    uint64_t suffix_key = key;
    for (int i = n - 2; i >= 0; --i) {
      key = extend(key, ids[i]);
      if (i == 1) suffix_key = key;
    }
    Entry* table = tables[n - 1];
    const uint64_t mask = header->buckets[n - 1] - 1;
    for (uint64_t i = key & mask;; i = (i + 1) & mask) {
      if (table[i].key == 0) {
        table[i] = Entry{(key & ~uint64_t{1}) | flag, g.log10_prob, g.log10_backoff};
        break;
      }
      if ((table[i].key ^ key) <= 1) throw file_error(path, g.line, fmt::format("duplicate {}-gram", n));
    }
    // The scorer walks contexts from short to long, so every n-gram's context and suffix
    // must be listed; mark the context as extending (it matters for the state).
    Entry* context;
    if (n == 2) {
      context = &tables[0][ids[0]];
    } else {
      uint64_t ckey = seed(ids[n - 2]);
      for (int i = n - 3; i >= 0; --i) ckey = extend(ckey, ids[i]);
      context = const_cast<Entry*>(m.find(n - 1, ckey));
    }
    if (!context) throw file_error(path, g.line, fmt::format("the context (first {} words) of this {}-gram is not listed", n - 1, n));
    context->key |= 1;
    if (n > 2 && !m.find(n - 1, suffix_key))
      throw file_error(path, g.line, fmt::format("the suffix (last {} words) of this {}-gram is not listed", n - 1, n));
  };

  ArpaReader::read(path, on_header, on_ngram);
  if (header->unk == kNoWord) {
    std::fprintf(stderr, "w2v: warning: %s has no <unk>; OOV words get log10 p = -100\n", path.c_str());
    const WordIndex id = insert_word("<unk>", 0);
    tables[0][id] = Entry{0, -100.0f, 0.0f};
    header->unk = id;
  }
  if (header->bos == kNoWord || header->eos == kNoWord)
    throw file_error(path, 0, "the 1-grams must contain <s> and </s>");
  header->counts[0] = header->vocab_size;
  return model;
}

std::unique_ptr<BackoffModel> open_language_model(const std::string& path) {
  if (is_kenlm_binary(path)) return open_kenlm_binary(path);
  char magic[sizeof kOldBinaryMagic] = {};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
    in.read(magic, sizeof magic);
  }
  if (std::memcmp(magic, kOldBinaryMagic, sizeof magic) == 0)
    throw file_error(path, 0,
                     "w2v's own binary LM format (w2vNGRAM) is no longer read; recompile the ARPA with "
                     "`w2v lm compile` (it writes KenLM's probing format)");
  return NgramModel::from_arpa(path);
}

std::unique_ptr<LanguageModel> load_language_model(const std::string& path) { return open_language_model(path); }

}  // namespace w2v::lm
