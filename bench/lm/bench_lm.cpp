// LM toolkit benchmark (plain timing, one thread):
//   bench_lm generate MB OUT            synthetic corpus: Zipf words (50k types), 3..25 words/line
//   bench_lm build CORPUS ORDER OUT     estimation time and peak resident memory
//   bench_lm query ARPA SECONDS         load time and score() lookups/s on random word streams, for
//                                       the ARPA-loaded model and its compiled binary (ARPA.bin,
//                                       KenLM's probing format as `lm compile` writes it)
//   bench_lm ids MODEL IDS              KenLM's benchmark loop on the id stream `kenlm_benchmark -v`
//                                       wrote (ids of a KenLM probing file = ARPA order, so they fit
//                                       the ARPA-loaded model of an lmplz ARPA too): queries per CPU second
#include <fmt/core.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <ctime>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lm/kenlm_model.h"
#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"
#include "lm/text_file.h"
#include "util/error.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU seconds of this process: on a shared machine wall time measures the neighbours too.
double cpu() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

int generate(double mb, const std::string& out) {
  std::mt19937_64 rng(42);
  const int types = 50000;
  std::vector<double> weights(types);
  for (int i = 0; i < types; ++i) weights[i] = 1.0 / std::pow(i + 1, 1.05);
  std::discrete_distribution<int> word(weights.begin(), weights.end());
  std::uniform_int_distribution<int> length(3, 25);
  const size_t target = static_cast<size_t>(mb * 1e6);
  w2v::lm::write_text_atomic(out, [&](std::ostream& os) {
    std::string line;
    size_t written = 0;
    while (written < target) {
      line.clear();
      for (int i = 0, n = length(rng); i < n; ++i) {
        if (i) line += ' ';
        line += "w" + std::to_string(word(rng));
      }
      line += '\n';
      os << line;
      written += line.size();
    }
  });
  return 0;
}

int build(const std::string& corpus, int order, const std::string& out) {
  w2v::lm::KneserNeyOptions options;
  options.order = order;
  options.discount_fallback = {0.5, 1.0, 1.5};
  const double start = now(), start_cpu = cpu();
  w2v::lm::KneserNeyStats stats = w2v::lm::estimate_kneser_ney(corpus, out, options, nullptr);
  const double seconds = now() - start, cpu_seconds = cpu() - start_cpu;
  uint64_t ngrams = 0;
  for (uint64_t k : stats.kept) ngrams += k;
  fmt::print("build order={} tokens={} types={} ngrams={} wall_seconds={:.2f} cpu_seconds={:.2f} peak_rss_mb={:.0f}\n",
             order, stats.tokens, stats.types, ngrams, seconds, cpu_seconds, peak_rss_mb());
  return 0;
}

void run_queries(const std::string& path, double seconds) {
  const double start = now(), start_cpu = cpu();
  auto model = w2v::lm::open_language_model(path);
  const double load = now() - start, load_cpu = cpu() - start_cpu;
  // Random streams of in-vocabulary words, a sentence every 20 words, scored like a decoder does.
  std::mt19937 rng(7);
  std::uniform_int_distribution<w2v::lm::WordIndex> word(0, static_cast<w2v::lm::WordIndex>(model->vocab_size() - 1));
  std::vector<w2v::lm::WordIndex> stream(1 << 20);
  for (auto& w : stream) w = word(rng);
  uint64_t lookups = 0;
  double sum = 0;
  const double begin = now(), begin_cpu = cpu();
  double elapsed = 0;
  const w2v::lm::State sentence_start = model->begin();
  w2v::lm::State states[2];  // alternating, as score_sequence (lm/language_model.h) does
  size_t k = 0;
  for (int pass = 0; elapsed < seconds; ++pass) {
    const w2v::lm::State* context = &sentence_start;
    for (size_t i = 0; i < stream.size(); ++i) {
      if (i % 20 == 0) context = &sentence_start;
      w2v::lm::State* out = &states[k ^= 1];
      const float p = model->score(*context, stream[i], out, nullptr);
      if (pass == 0) sum += p;  // the same for ARPA and binary models
      context = out;
    }
    lookups += stream.size();
    elapsed = now() - begin;
  }
  fmt::print(
      "query model={} load_wall_seconds={:.3f} load_cpu_seconds={:.3f} lookups_per_second={:.0f} "
      "lookups_per_cpu_second={:.0f} threads=1 checksum={:.3f}\n",
      path, load, load_cpu, lookups / elapsed, lookups / (cpu() - begin_cpu), sum);
}

int query(const std::string& arpa, double seconds) {
  run_queries(arpa, seconds);
  w2v::lm::write_kenlm_probing(arpa, arpa + ".bin");  // `lm compile`
  run_queries(arpa + ".bin", seconds);
  return 0;
}

// kenlm_benchmark -q's loop: every id scored from the running state; after </s> the next
// word starts from <s>. Each sentence is one score_words call (kenlm_benchmark calls its model
// type directly too). Not inlined, so that callgrind can count its instructions alone
// (--toggle-collect='*score_stream*').
__attribute__((noinline)) double score_stream(const w2v::lm::BackoffModel& model, const std::vector<w2v::lm::WordIndex>& stream) {
  const w2v::lm::WordIndex eos = model.eos_index();
  const w2v::lm::State begin = model.begin();
  std::vector<float> probs;  // one sentence's
  double sum = 0;
  for (size_t i = 0; i < stream.size();) {
    size_t end = i;
    while (end < stream.size() && stream[end++] != eos) {
    }
    if (probs.size() < end - i) probs.resize(end - i);
    w2v::lm::State state = begin;
    model.score_words(&state, stream.data() + i, end - i, probs.data(), nullptr);
    for (size_t k = 0; i < end; ++i, ++k) sum += probs[k];
  }
  return sum;
}

// The ids are as wide as KenLM makes them for the vocabulary size.
int ids(const std::string& model_path, const std::string& ids_path) {
  const double start_cpu = cpu();
  auto model = w2v::lm::open_language_model(model_path);
  const double load_cpu = cpu() - start_cpu;
  std::ifstream in(ids_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t vocab = model->vocab_size();
  const size_t width = vocab <= 256 ? 1 : vocab <= 65536 ? 2 : 4;
  std::vector<w2v::lm::WordIndex> stream(bytes.size() / width);
  for (size_t i = 0; i < stream.size(); ++i) {
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + i * width, width);
    stream[i] = v;
  }
  const double begin_cpu = cpu();
  const double sum = score_stream(*model, stream);
  const double seconds = cpu() - begin_cpu;
  fmt::print("ids model={} queries={} load_cpu_seconds={:.3f} query_cpu_seconds={:.3f} queries_per_cpu_second={:.0f} "
             "probability_sum={:.2f} peak_rss_mb={:.0f} threads=1\n",
             model_path, stream.size(), load_cpu, seconds, stream.size() / seconds, sum, peak_rss_mb());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 3 && a[0] == "generate") return generate(std::stod(a[1]), a[2]);
    if (a.size() == 4 && a[0] == "build") return build(a[1], std::stoi(a[2]), a[3]);
    if (a.size() == 3 && a[0] == "query") return query(a[1], std::stod(a[2]));
    if (a.size() == 3 && a[0] == "ids") return ids(a[1], a[2]);
  } catch (const w2v::Error& e) {
    fmt::print(stderr, "bench_lm: {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "usage: bench_lm generate MB OUT | build CORPUS ORDER OUT | query ARPA SECONDS | ids MODEL IDS\n");
  return 2;
}
