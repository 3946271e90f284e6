// Decoder quality measurements on the synthetic setup (synthetic.h), one per mode:
//   bench_decode_quality merge      WER of --merge state vs history (issue 18.2), beams 50/500
//   bench_decode_quality hotwords   recall of weak, rare boosted words vs the other words' errors (18.7)
//   bench_decode_quality confidence ROC AUC of word confidences, right vs wrong words (18.8)
//   bench_decode_quality memory     decoder history for 1 vs 60 minutes of emissions (issue 13)
// Options: --utterances N --seconds S --noise X --beam B (defaults per mode below).
#include <fmt/core.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "decode/lexicon_decoder.h"
#include "decode/lexicon_free_decoder.h"
#include "eval/edit_distance.h"
#include "eval/scoring.h"
#include "lm/ngram_model.h"
#include "synthetic.h"

using namespace w2v;

namespace {

struct Args {
  int utterances = 0, beam = 50;
  double seconds = 15, noise = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

decode::BeamOptions beam_options(int beam) {
  decode::BeamOptions o;  // fairseq's README knobs (spec 8.5), as bench_decode
  o.beam = beam;
  o.beam_size_token = 32;
  o.beam_threshold = 25;
  o.lm_weight = 2;
  o.word_score = -1;
  return o;
}

decode::Emissions view(const bench::Setup& s, size_t u) {
  const int V = static_cast<int>(bench::kLetters.size());
  return {s.utterances[u].data(), static_cast<int>(s.utterances[u].size()) / V, V};
}

// The synthetic setup with its decoder inputs loaded (noise 2.0 unless --noise).
struct Loaded {
  bench::SyntheticOptions so;
  bench::Setup s;
  decode::TokenSet tokens{bench::kLetters};
  std::unique_ptr<decode::Lexicon> lexicon;
  std::unique_ptr<lm::LanguageModel> lm;
  explicit Loaded(const Args& a) {
    so.utterances = a.utterances ? a.utterances : 40;
    so.seconds = a.seconds;
    so.noise = a.noise ? static_cast<float>(a.noise) : 2.0f;
    s = bench::make_setup(so);
    lexicon = std::make_unique<decode::Lexicon>(decode::Lexicon::parse(s.lexicon_text, "bench.lex", tokens));
    lm = lm::load_language_model(s.word_arpa);
  }
};

void merge(const Args& a) {
  Loaded x(a);
  const auto& so = x.so;
  const auto& s = x.s;
  const auto& tokens = x.tokens;
  const auto& lexicon = *x.lexicon;
  const auto& lm = x.lm;
  fmt::print("merge: {} utterances x {} s, noise {}\n", so.utterances, so.seconds, so.noise);
  for (int beam : {a.beam, 500}) {
    std::map<decode::MergeMode, eval::Scorer> wer;
    int differ = 0, state_higher = 0;
    for (size_t u = 0; u < s.utterances.size(); ++u) {
      std::map<decode::MergeMode, decode::DecodeResult> best;
      for (auto mode : {decode::MergeMode::kState, decode::MergeMode::kHistory}) {
        auto o = beam_options(beam);
        o.merge = mode;
        best[mode] = decode::LexiconDecoder(tokens, lexicon, *lm, o).decode(view(s, u)).at(0);
        wer[mode].add(std::to_string(u), s.references[u], best[mode].text());
      }
      const auto &st = best[decode::MergeMode::kState], &hi = best[decode::MergeMode::kHistory];
      if (st.text() != hi.text()) {
        ++differ;
        state_higher += st.score > hi.score;
      }
    }
    fmt::print("beam {:>3}: WER state {:.2f} % ({} errors), history {:.2f} % ({} errors); best words differ in {} of {} "
               "utterances, the state decode scoring higher in {}\n",
               beam, wer[decode::MergeMode::kState].error_rate(), wer[decode::MergeMode::kState].errors(),
               wer[decode::MergeMode::kHistory].error_rate(), wer[decode::MergeMode::kHistory].errors(), differ,
               s.utterances.size(), state_higher);
  }
}

// Recall of hotword occurrences and the error rate of the other reference words (their S + D,
// plus insertions of non-hotwords, over their count), from the word alignment.
struct HotwordScore {
  size_t hot = 0, hot_found = 0, other = 0, other_errors = 0, false_alarms = 0;
  void add(const std::vector<std::string>& ref, const std::vector<std::string>& hyp, const std::set<std::string>& hot_set) {
    auto al = eval::align(ref, hyp);
    size_t i = 0, j = 0;
    for (auto op : al.ops) {
      const bool ref_hot = i < ref.size() && hot_set.count(ref[i]), hyp_hot = j < hyp.size() && hot_set.count(hyp[j]);
      switch (op) {
        case eval::EditOp::kMatch:
          ref_hot ? (++hot, ++hot_found) : ++other;
          ++i, ++j;
          break;
        case eval::EditOp::kSubstitute:
          ref_hot ? ++hot : (++other, ++other_errors);
          false_alarms += hyp_hot;
          ++i, ++j;
          break;
        case eval::EditOp::kDelete:
          ref_hot ? ++hot : (++other, ++other_errors);
          ++i;
          break;
        case eval::EditOp::kInsert:
          hyp_hot ? ++false_alarms : ++other_errors;
          ++j;
          break;
      }
    }
  }
};

void hotwords(const Args& a) {
  bench::SyntheticOptions so;
  so.utterances = a.utterances ? a.utterances : 40;
  so.seconds = a.seconds;
  so.noise = a.noise ? static_cast<float>(a.noise) : 1.5f;
  so.weak_rate = 0.1;
  so.weak_peak = 2.5f;
  // 20 rare words (Zipf ranks 3000-3019: the LM has seen them a few times at most).
  bench::SyntheticOptions vocab_options;
  vocab_options.utterances = 0;
  vocab_options.lms = false;
  bench::Setup vocab_only = bench::make_setup(vocab_options);
  for (int i = 3000; i < 3020; ++i) so.weak_words.push_back(vocab_only.vocab[i]);
  const std::set<std::string> hot_set(so.weak_words.begin(), so.weak_words.end());
  bench::Setup s = bench::make_setup(so);
  decode::TokenSet tokens(bench::kLetters);
  auto lexicon = decode::Lexicon::parse(s.lexicon_text, "bench.lex", tokens);
  std::string reduced_text;  // the lexicon without the hotwords
  {
    std::istringstream in(s.lexicon_text);
    for (std::string line; std::getline(in, line);)
      if (!hot_set.count(line.substr(0, line.find(' ')))) reduced_text += line + "\n";
  }
  auto reduced = decode::Lexicon::parse(reduced_text, "reduced.lex", tokens);
  auto word_lm = lm::load_language_model(s.word_arpa);
  auto letter_lm = lm::load_language_model(s.letter_arpa);
  fmt::print("hotwords: {} utterances x {} s, noise {}, {} weak words (peak {} vs {}) drawn for {:.0f} % of the words\n",
             so.utterances, so.seconds, so.noise, so.weak_words.size(), so.weak_peak, so.peak, 100 * so.weak_rate);
  auto report = [&](const std::string& name, auto decode_one) {
    HotwordScore h;
    for (size_t u = 0; u < s.utterances.size(); ++u) h.add(split(s.references[u]), split(decode_one(view(s, u))), hot_set);
    fmt::print("{:<44} hotword recall {:5.1f} % ({}/{}), false alarms {:>3}, other words' error rate {:5.2f} % ({}/{})\n",
               name, 100.0 * h.hot_found / std::max<size_t>(1, h.hot), h.hot_found, h.hot, h.false_alarms,
               100.0 * h.other_errors / std::max<size_t>(1, h.other), h.other_errors, h.other);
  };
  auto boosted = [&](double boost) {
    auto o = beam_options(a.beam);
    for (const auto& w : so.weak_words) o.hotwords.push_back({w, boost});
    return o;
  };
  for (double boost : {0.0, 2.0, 4.0, 6.0, 8.0}) {
    auto o = boost > 0 ? boosted(boost) : beam_options(a.beam);
    decode::LexiconDecoder d(tokens, lexicon, *word_lm, o);
    report(fmt::format("lexicon beam {}, boost {}", a.beam, boost), [&](const decode::Emissions& e) { return d.decode(e).at(0).text(); });
  }
  for (double boost : {0.0, 4.0}) {
    auto o = boost > 0 ? boosted(boost) : beam_options(a.beam);
    decode::LexiconDecoder d(tokens, reduced, *word_lm, o);
    report(fmt::format("lexicon without them, beam {}, boost {}", a.beam, boost),
           [&](const decode::Emissions& e) { return d.decode(e).at(0).text(); });
  }
  // The same hotwords when none of them is spoken: false alarms and the other words' errors.
  {
    bench::SyntheticOptions none = so;
    none.weak_rate = 0;
    const bench::Setup plain = bench::make_setup(none);
    for (double boost : {0.0, 4.0, 6.0}) {
      decode::LexiconDecoder d(tokens, lexicon, *word_lm, boost > 0 ? boosted(boost) : beam_options(a.beam));
      HotwordScore h;
      for (size_t u = 0; u < plain.utterances.size(); ++u)
        h.add(split(plain.references[u]), split(d.decode(view(plain, u)).at(0).text()), hot_set);
      fmt::print("{:<44} false alarms {:>3}, other words' error rate {:5.2f} % ({}/{})\n",
                 fmt::format("none spoken: lexicon beam {}, boost {}", a.beam, boost), h.false_alarms,
                 100.0 * h.other_errors / std::max<size_t>(1, h.other), h.other_errors, h.other);
    }
  }
  for (double boost : {0.0, 4.0, 8.0}) {
    auto o = boost > 0 ? boosted(boost) : beam_options(a.beam);
    o.lm_weight = 1;
    decode::LexiconFreeDecoder d(tokens, *letter_lm, o);
    report(fmt::format("lexicon-free beam {}, boost {}", a.beam, boost), [&](const decode::Emissions& e) { return d.decode(e).at(0).text(); });
  }
}

// Mann-Whitney: P(score of a right word > score of a wrong one), ties counting one half.
double auc(std::vector<std::pair<double, bool>> v) {
  std::sort(v.begin(), v.end());
  double rank_sum = 0, right = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].first == v[i].first) ++j;
    for (size_t k = i; k < j; ++k)
      if (v[k].second) rank_sum += (i + j + 1) / 2.0, ++right;
    i = j;
  }
  const double wrong = v.size() - right;
  return (rank_sum - right * (right + 1) / 2) / (right * wrong);
}

void confidence(const Args& a) {
  Loaded x(a);
  const auto& so = x.so;
  const auto& s = x.s;
  const auto& tokens = x.tokens;
  const auto& lexicon = *x.lexicon;
  const auto& lm = x.lm;
  auto o = beam_options(a.beam);
  o.nbest = 10;
  decode::LexiconDecoder d(tokens, lexicon, *lm, o);
  // Candidate confidences per hypothesis word: the decoder's (exp mean log posterior over the
  // word's token frames), the same over all its frames (blanks too), the minimum frame
  // posterior, the mean and min of each token's best frame, and the n-best agreement (share of
  // the score-weighted 10-best with the same word at an overlapping time).
  std::map<std::string, std::vector<std::pair<double, bool>>> scores;
  size_t right = 0, wrong = 0;
  for (size_t u = 0; u < s.utterances.size(); ++u) {
    const auto e = view(s, u);
    const auto lse = decode::log_partition(e);
    auto r = d.decode(e);
    const auto& best = r.at(0);
    std::vector<std::string> hyp;
    for (const auto& w : best.words) hyp.push_back(w.word);
    auto al = eval::align(split(s.references[u]), hyp);
    std::vector<bool> correct;
    for (auto op : al.ops)
      if (op != eval::EditOp::kDelete) correct.push_back(op == eval::EditOp::kMatch);
    std::vector<double> weight;
    double total = 0;
    for (const auto& h : r) total += weight.emplace_back(std::exp(h.score - best.score));
    for (size_t i = 0; i < best.words.size(); ++i) {
      const auto& w = best.words[i];
      double mn = 1, sum = 0;
      for (int t = w.start_frame; t < w.end_frame; ++t) {
        const double lp = e.at(t, best.path[t]) - lse[t];
        mn = std::min(mn, std::exp(lp));
        sum += lp;
      }
      const int n = w.end_frame - w.start_frame;
      // Per emitted token (a run of one non-blank token) its best frame's log posterior.
      std::vector<double> peaks;
      for (int t = w.start_frame; t < w.end_frame; ++t) {
        if (best.path[t] == tokens.blank()) continue;
        const double lp = e.at(t, best.path[t]) - lse[t];
        if (t == w.start_frame || best.path[t] != best.path[t - 1]) peaks.push_back(lp);
        else peaks.back() = std::max(peaks.back(), lp);
      }
      double peak_sum = 0, peak_min = 0;
      for (double p : peaks) peak_sum += p, peak_min = std::min(peak_min, p);
      scores["mean of token peaks"].emplace_back(peaks.empty() ? 0.0 : std::exp(peak_sum / peaks.size()), correct[i]);
      scores["min of token peaks"].emplace_back(std::exp(peak_min), correct[i]);
      double agree = 0;
      for (size_t k = 0; k < r.size(); ++k)
        for (const auto& x : r[k].words)
          if (x.word == w.word && x.start_frame < w.end_frame && w.start_frame < x.end_frame) {
            agree += weight[k] / total;
            break;
          }
      scores["decoder's (mean over the token frames)"].emplace_back(w.confidence, correct[i]);
      scores["min frame posterior"].emplace_back(mn, correct[i]);
      scores["mean over all frames (blanks too)"].emplace_back(n ? std::exp(sum / n) : 0.0, correct[i]);
      scores["10-best agreement"].emplace_back(agree, correct[i]);
      correct[i] ? ++right : ++wrong;
    }
  }
  fmt::print("confidence: {} utterances x {} s, noise {}, lexicon beam {}: {} right and {} wrong hypothesis words\n",
             so.utterances, so.seconds, so.noise, a.beam, right, wrong);
  for (const auto& [name, v] : scores) fmt::print("  ROC AUC {:.3f}  {}\n", auc(v), name);
}

long max_rss_kib() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void memory(const Args& a) {
  decode::TokenSet tokens(bench::kLetters);
  bench::SyntheticOptions so;
  so.utterances = 1;
  so.seconds = 3600;
  bench::Setup s = bench::make_setup(so);
  auto lexicon = decode::Lexicon::parse(s.lexicon_text, "bench.lex", tokens);
  auto lm = lm::load_language_model(s.word_arpa);
  for (double minutes : {1.0, 10.0, 60.0}) {
    decode::Emissions e = view(s, 0);
    e.frames = static_cast<int>(minutes * 60 / decode::kFrameSeconds);  // a prefix of the hour
    for (auto mode : {decode::MergeMode::kState, decode::MergeMode::kHistory}) {
      auto o = beam_options(a.beam);
      o.merge = mode;
      decode::LexiconDecoder d(tokens, lexicon, *lm, o);
      const long before = max_rss_kib();
      auto start = std::chrono::steady_clock::now();
      auto r = d.decode(e);
      fmt::print("{:>4.0f} min, beam {}, merge {:<7}: peak history nodes {:>7}, word histories {:>6}, history bytes {:>8}, "
                 "process peak RSS {:.0f} MiB (+{:.1f}), {:.1f} s, {} words\n",
                 minutes, a.beam, mode == decode::MergeMode::kState ? "state" : "history", d.peak_history_nodes(),
                 d.peak_word_histories(), d.history_bytes(), max_rss_kib() / 1024.0, (max_rss_kib() - before) / 1024.0,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), r.at(0).words.size());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_decode_quality merge|hotwords|confidence|memory [--utterances N] [--seconds S] "
                       "[--noise X] [--beam B]\n");
    return 2;
  }
  Args a;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--utterances")) a.utterances = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) a.seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--noise")) a.noise = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--beam")) a.beam = std::atoi(argv[i + 1]);
  }
  const std::string mode = argv[1];
  if (mode == "merge") merge(a);
  else if (mode == "hotwords") hotwords(a);
  else if (mode == "confidence") confidence(a);
  else if (mode == "memory") memory(a);
  else return 2;
  return 0;
}
