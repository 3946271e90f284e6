// CTC Viterbi alignment: equal to the independent Python oracle (tools/oracle/ctc_align.py,
// which also checks itself by enumerating every path of small cases) on random emissions with
// repeated labels and tight frame budgets; windowed alignment of long inputs equals the exact
// one on speech-like (peaky) emissions; memory does not grow with a T x N trellis.
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "align/alignment.h"
#include "align_test_util.h"
#include "util/error.h"

namespace w2v::align {
namespace {

using test::Matrix;

Matrix random_emissions(int frames, int vocab, std::mt19937& rng, float scale = 2.f) {
  std::normal_distribution<float> g(0.f, scale);
  Matrix m;
  m.frames = frames;
  m.vocab = vocab;
  for (int i = 0; i < frames * vocab; ++i) m.data.push_back(g(rng));
  return m;
}

TEST(CtcViterbi, EqualsOracleOnRandomEmissions) {
  std::mt19937 rng(11);
  std::vector<Matrix> mats;
  std::vector<test::OracleCase> cases;
  mats.reserve(60);
  for (int c = 0; c < 60; ++c) {
    const int vocab = 3 + c % 5, blank = c % 3 == 2 ? vocab - 1 : 0;
    std::uniform_int_distribution<int> len(1, 8), pick(0, vocab - 1);
    std::vector<int> labels;
    for (int k = len(rng); k > 0; --k) {
      int y;
      do y = pick(rng); while (y == blank);
      // Every third label repeats its predecessor, so blanks between copies are exercised.
      labels.push_back(!labels.empty() && k % 3 == 0 ? labels.back() : y);
    }
    // From the tightest budget (no frame to spare) to plenty of frames.
    const int frames = min_frames(labels) + (c % 4 == 0 ? 0 : c % 13);
    mats.push_back(random_emissions(frames, vocab, rng));
    cases.push_back({&mats.back(), labels, blank});
  }
  const auto want = test::oracle(cases, ::testing::TempDir() + "/align_oracle/random.json");
  ASSERT_EQ(want.size(), cases.size());
  int repeats = 0, tight = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    const CtcPath got = ctc_viterbi(cases[c].emissions->view(), cases[c].labels, cases[c].blank);
    EXPECT_EQ(got.states, want[c].states) << "case " << c;
    EXPECT_NEAR(got.score, want[c].score, 1e-6) << "case " << c;
    EXPECT_TRUE(test::valid_path(got.states, cases[c].labels)) << "case " << c;
    repeats += min_frames(cases[c].labels) > static_cast<int>(cases[c].labels.size());
    tight += min_frames(cases[c].labels) == cases[c].emissions->frames;
  }
  EXPECT_GT(repeats, 10);
  EXPECT_GT(tight, 10);
}

TEST(CtcViterbi, TightBudgetPutsOneBlankBetweenRepeats) {
  // A A B A A: 5 labels + 2 repeats = 7 frames, whatever the emissions prefer.
  std::mt19937 rng(3);
  const std::vector<int> labels = {1, 1, 2, 1, 1};
  Matrix m = random_emissions(7, 3, rng);
  const CtcPath p = ctc_viterbi(m.view(), labels, 0);
  EXPECT_EQ(p.states, (std::vector<int>{1, 2, 3, 5, 7, 8, 9}));
  Matrix short_by_one = random_emissions(6, 3, rng);
  try {
    ctc_viterbi(short_by_one.view(), labels, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 7 frames"), std::string::npos) << e.what();
  }
}

TEST(CtcViterbi, WindowedEqualsExactOnSpeechLikeEmissions) {
  std::mt19937 rng(7);
  const int vocab = 12;
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<int> labels;
    std::uniform_int_distribution<int> pick(1, vocab - 1);
    for (int k = 0; k < 700; ++k) labels.push_back(k % 9 == 4 ? labels.back() : pick(rng));
    std::vector<int> truth;
    // Long pauses (up to 40 frames) between some labels, as between sentences.
    Matrix m = test::peaky(labels, vocab, 0, rng, trial % 2 ? 40 : 6, 4.f, &truth);
    ViterbiOptions exact;
    exact.window_frames = m.frames;
    const CtcPath full = ctc_viterbi(m.view(), labels, 0, exact);
    for (int window : {150, 400}) {
      ViterbiOptions o;
      o.window_frames = window;
      const CtcPath w = ctc_viterbi(m.view(), labels, 0, o);
      EXPECT_EQ(w.states, full.states) << "trial " << trial << ", window " << window << ", " << m.frames << " frames";
    }
    // A window far too small for the text still gives a legal path.
    ViterbiOptions tiny;
    tiny.window_frames = 4;
    EXPECT_TRUE(test::valid_path(ctc_viterbi(m.view(), labels, 0, tiny).states, labels));
  }
}

// Peak RSS growth (KiB) while aligning `minutes` of speech-like emissions (12 letters a second),
// measured in a child process so that other tests' allocations do not count; also its speed.
long status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  return -1;
}

struct MemoryRun {
  long extra_kib = 0;
  double seconds = 0;
};
MemoryRun align_in_child(int minutes) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::mt19937 rng(1);
    std::vector<int> labels;
    std::uniform_int_distribution<int> pick(1, 31);
    for (int k = 0; k < minutes * 60 * 12; ++k) labels.push_back(pick(rng));
    Matrix m = test::peaky(labels, 32, 0, rng, 2);
    m.data.resize(static_cast<size_t>(minutes) * 3000 * 32, 0.f);  // pad to exactly `minutes` of frames
    m.frames = minutes * 3000;
    // Peak RSS (VmHWM) is reset to the current RSS, so the peak read afterwards is the aligner's;
    // freed heap pages go back first, or the aligner would reuse them unseen.
    malloc_trim(0);
    const long before = status_kib("VmRSS:");
    std::ofstream("/proc/self/clear_refs") << "5";
    const auto t0 = std::chrono::steady_clock::now();
    const CtcPath p = ctc_viterbi(m.view(), labels, 0);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MemoryRun r{status_kib("VmHWM:") - before, secs};
    if (p.states.size() != m.data.size() / 32 || before <= 0) r.extra_kib = -1;
    (void)!write(fds[1], &r, sizeof r);
    _exit(0);
  }
  close(fds[1]);
  MemoryRun r;
  EXPECT_EQ(read(fds[0], &r, sizeof r), static_cast<ssize_t>(sizeof r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

TEST(CtcViterbi, LongAudioAlignsInBoundedMemory) {
  // An hour at 12 letters/s: a full trellis would be 180 000 frames x 86 401 states.
  const MemoryRun ten = align_in_child(10), hour = align_in_child(60);
  ASSERT_GE(ten.extra_kib, 0);
  ASSERT_GE(hour.extra_kib, 0);
  std::printf("alignment peak RSS growth: 10 min %ld KiB (%.2f s), 60 min %ld KiB (%.2f s, %.0fx realtime)\n",
              ten.extra_kib, ten.seconds, hour.extra_kib, hour.seconds, 3600 / hour.seconds);
  // What grows is the path (12 bytes a frame) and the log partition (8 bytes): 3.6 MB an hour.
  EXPECT_LT(hour.extra_kib, ten.extra_kib + 8 * 1024);
  EXPECT_LT(hour.extra_kib, 32 * 1024);
}

}  // namespace
}  // namespace w2v::align
