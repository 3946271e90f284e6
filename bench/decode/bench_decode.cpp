// Decoder speed: greedy, lexicon beam search (beam 50 and 500) and lexicon-free beam search on
// synthetic emissions with a word-level Kneser-Ney 4-gram (and a letter 6-gram) built by w2v's
// own estimator. The setup mimics a LibriSpeech letter model: V = 32 (fairseq's letter dict),
// a 5 000-word lexicon, emissions that spell a sentence with noise so that the beam stays busy.
//   bench_decode [--seconds S] [--threads N] [--beams 50,500]
// Prints one line per decoder: WER against the spelled words, frames per CPU second and
// x-realtime (1 frame = 20 ms) for one thread, and wall rates with N threads (one decoder per
// thread, utterances split between them).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "decode/lexicon_decoder.h"
#include "decode/lexicon_free_decoder.h"
#include "decode/viterbi.h"
#include "eval/scoring.h"
#include "synthetic.h"
#include "lm/ngram_model.h"

using namespace w2v;

namespace {

using bench::kLetters;
using bench::Setup;

template <class MakeDecoder>
void run(const std::string& name, const Setup& s, int threads, MakeDecoder make) {
  const int V = static_cast<int>(kLetters.size());
  // Wall and process CPU seconds: the machine is shared, so CPU time is the comparable number.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  double cpu_one = 0;
  eval::Scorer wer;
  auto time_on = [&](int n) {
    std::vector<std::thread> pool;
    const double cpu_start = cpu_now();
    auto start = std::chrono::steady_clock::now();
    for (int th = 0; th < n; ++th) {
      pool.emplace_back([&, th] {
        auto decode = make();
        for (size_t u = th; u < s.utterances.size(); u += n) {
          decode::Emissions e{s.utterances[u].data(), static_cast<int>(s.utterances[u].size()) / V, V};
          std::string text = decode(e);
          if (n == 1) wer.add(std::to_string(u), s.references[u], text);
        }
      });
    }
    for (auto& t : pool) t.join();
    if (n == 1) cpu_one = cpu_now() - cpu_start;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double frames = 0;
  for (const auto& u : s.utterances) frames += static_cast<double>(u.size()) / V;
  double one = time_on(1), many = threads > 1 ? time_on(threads) : one;
  fmt::print("{:<22} WER {:5.2f} % | 1 thread: {:>9.0f} frames/CPU-s {:>7.1f} x-realtime/CPU-s, wall {:>9.0f} frames/s | "
             "{} threads: wall {:>9.0f} frames/s {:>7.1f} x-realtime\n",
             name, wer.error_rate(), frames / cpu_one, frames / cpu_one * decode::kFrameSeconds, frames / one, threads, frames / many,
             frames / many * decode::kFrameSeconds);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 15;
  int threads = 2, utterances = 8;
  std::vector<int> beams = {50, 500};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--utterances")) utterances = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--beams")) {
      beams.clear();
      for (char* p = argv[i + 1]; *p;) {
        beams.push_back(std::strtol(p, &p, 10));
        if (*p == ',') ++p;
      }
    } else {
      fmt::print(stderr, "usage: bench_decode [--seconds S] [--utterances N] [--threads N] [--beams 50,500]\n");
      return 2;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  bench::SyntheticOptions so;
  so.seconds = seconds;
  so.utterances = utterances;
  Setup s = bench::make_setup(so);
  decode::TokenSet tokens(kLetters);
  decode::Lexicon lexicon = decode::Lexicon::parse(s.lexicon_text, "bench.lex", tokens);
  auto word_lm = lm::load_language_model(s.word_arpa);
  auto letter_lm = lm::load_language_model(s.letter_arpa);
  fmt::print("setup: {} utterances x {:.0f} s, V = {}, lexicon {} words, word 4-gram + letter 6-gram ({:.1f} s)\n",
             utterances, seconds, tokens.size(), lexicon.size() - 1,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  run("viterbi", s, threads, [&] {
    return [d = std::make_shared<decode::ViterbiDecoder>(tokens)](const decode::Emissions& e) { return d->decode(e).text(); };
  });
  for (int beam : beams) {
    decode::BeamOptions opt;  // fairseq infer's recommended knobs (spec 8.5)
    opt.beam = beam;
    opt.beam_size_token = 32;
    opt.beam_threshold = 25;
    opt.lm_weight = 2;
    opt.word_score = -1;
    run(fmt::format("lexicon beam {}", beam), s, threads, [&] {
      return [d = std::make_shared<decode::LexiconDecoder>(tokens, lexicon, *word_lm, opt)](const decode::Emissions& e) {
        return d->decode(e).at(0).text();
      };
    });
  }
  decode::BeamOptions opt;
  opt.beam = 50;
  opt.beam_threshold = 25;
  opt.lm_weight = 1;
  run("lexicon-free beam 50", s, threads, [&] {
    return [d = std::make_shared<decode::LexiconFreeDecoder>(tokens, *letter_lm, opt)](const decode::Emissions& e) {
      return d->decode(e).at(0).text();
    };
  });
  return 0;
}
