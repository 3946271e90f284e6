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
#include "lm/kneser_ney.h"
#include "lm/ngram_model.h"

using namespace w2v;

namespace {

const std::vector<std::string> kLetters = {"<s>", "<pad>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I",
                                           "H", "S", "R", "D", "L", "U", "M", "W", "C", "F", "G", "Y", "P",
                                           "B", "V", "K", "'", "X", "J", "Q", "Z"};

struct Setup {
  std::vector<std::string> vocab;
  std::vector<std::vector<float>> utterances;  // emissions [T, 32]
  std::vector<std::string> references;         // the words each utterance spells
  std::string lexicon_text, word_arpa, letter_arpa;
};

Setup make_setup(double seconds, int utterances) {
  Setup s;
  std::mt19937 rng(1234);
  const std::string consonants = "TNSRHDLCMWFGYPBVK", vowels = "EAOIU";
  std::set<std::string> seen;
  while (s.vocab.size() < 5000) {
    std::string w;
    int syllables = 1 + rng() % 3;
    for (int i = 0; i < syllables; ++i) {
      w += consonants[rng() % consonants.size()];
      w += vowels[rng() % vowels.size()];
      if (rng() % 2) w += consonants[rng() % consonants.size()];
    }
    if (seen.insert(w).second) s.vocab.push_back(w);
  }
  for (const auto& w : s.vocab) {
    s.lexicon_text += w;
    for (char c : w) s.lexicon_text += std::string(" ") + c;
    s.lexicon_text += " |\n";
  }
  // Zipf-distributed corpus for the LMs.
  std::vector<double> weights(s.vocab.size());
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 1.0 / (i + 1);
  std::discrete_distribution<size_t> zipf(weights.begin(), weights.end());
  std::string dir = std::filesystem::temp_directory_path() / "w2v_bench_decode";
  std::filesystem::create_directories(dir);
  std::string corpus = dir + "/corpus.txt";
  {
    std::ofstream out(corpus);
    for (int n = 0; n < 40000; ++n) {
      int len = 5 + rng() % 15;
      for (int i = 0; i < len; ++i) out << (i ? " " : "") << s.vocab[zipf(rng)];
      out << "\n";
    }
  }
  s.word_arpa = dir + "/words.arpa";
  s.letter_arpa = dir + "/letters.arpa";
  lm::KneserNeyOptions word_opts;
  word_opts.order = 4;
  word_opts.discount_fallback = {0.5, 1.0, 1.5};  // a synthetic corpus has odd counts-of-counts
  lm::estimate_kneser_ney(corpus, s.word_arpa, word_opts, nullptr);
  lm::KneserNeyOptions letter_opts;
  letter_opts.order = 6;
  letter_opts.letters = true;
  letter_opts.discount_fallback = {0.5, 1.0, 1.5};
  lm::estimate_kneser_ney(corpus, s.letter_arpa, letter_opts, nullptr);

  // Emissions: a spoken Zipf sentence (each letter 1-2 frames, then 0-2 blanks; words end with
  // '|'), blank-padded to the length, +6 on the spoken token and N(0, 1.5) noise everywhere.
  std::normal_distribution<float> noise(0.f, 1.5f);
  const int V = static_cast<int>(kLetters.size());
  const int frames = static_cast<int>(seconds / decode::kFrameSeconds);
  for (int u = 0; u < utterances; ++u) {
    std::vector<int> path;
    std::string reference;
    while (true) {
      const std::string& word = s.vocab[zipf(rng)];
      std::vector<int> spoken;
      for (char c : word + "|") {
        int id = c == '|' ? 4 : static_cast<int>(std::find(kLetters.begin(), kLetters.end(), std::string(1, c)) - kLetters.begin());
        for (int k = 1 + rng() % 2; k > 0; --k) spoken.push_back(id);
        for (int k = rng() % 3; k > 0; --k) spoken.push_back(0);
      }
      if (path.size() + spoken.size() > static_cast<size_t>(frames)) break;
      path.insert(path.end(), spoken.begin(), spoken.end());
      reference += (reference.empty() ? "" : " ") + word;
    }
    path.resize(frames, 0);
    std::vector<float> e(static_cast<size_t>(frames) * V);
    for (int t = 0; t < frames; ++t)
      for (int v = 0; v < V; ++v) e[t * V + v] = noise(rng) + (v == path[t] ? 6.f : 0.f);
    s.utterances.push_back(std::move(e));
    s.references.push_back(std::move(reference));
  }
  return s;
}

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
  Setup s = make_setup(seconds, utterances);
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
