#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "util/progress.h"

using w2v::format_progress;
using w2v::ProgressLine;

namespace {

long draws(const std::ostringstream& out) {
  const std::string s = out.str();
  return std::count(s.begin(), s.end(), '\r');
}

}  // namespace

TEST(Progress, LineShowsBarCountsTimesRateAndStats) {
  ProgressLine l;
  l.label = "train";
  l.done = 37;
  l.total = 100;
  l.elapsed = 62.0;  // 0.5968 per second, 63 left -> 105.6 s
  l.unit = "ups";
  l.stats = {{"loss", 3.21417}, {"lr", 0.0005}};
  EXPECT_EQ(format_progress(l, 200),
            "train  37% |#######             | 37/100 [01:02<01:45, 0.5968 ups] loss=3.214 lr=0.0005");
}

TEST(Progress, RateCountsOnlyWorkSinceStart) {
  ProgressLine l;
  l.label = "x";
  l.start = 100;
  l.done = 150;
  l.total = 200;
  l.elapsed = 50.0;
  EXPECT_EQ(format_progress(l, 200), "x  75% |###############     | 150/200 [00:50<00:50, 1 it/s]");
}

TEST(Progress, UnknownTotalHasNoBarNorEta) {
  ProgressLine l;
  l.label = "decode";
  l.done = 12;
  l.elapsed = 4.0;
  l.unit = "utt/s";
  EXPECT_EQ(format_progress(l, 200), "decode 12 [00:04, 3 utt/s]");
}

TEST(Progress, NoRateYetGivesUnknownEta) {
  ProgressLine l;
  l.label = "t";
  l.total = 10;
  EXPECT_EQ(format_progress(l, 200), "t   0% |                    | 0/10 [00:00<?, 0 it/s]");
}

TEST(Progress, LineFitsTheTerminal) {
  ProgressLine l;
  l.label = "train";
  l.total = 100;
  l.stats = {{"a_long_statistic_name", 1.0}, {"another_one", 2.0}, {"and_more", 3.0}};
  for (int columns : {20, 40, 80}) EXPECT_EQ(format_progress(l, columns).size(), static_cast<size_t>(columns - 1));
}

TEST(Progress, DurationsPastAnHourShowHours) {
  EXPECT_EQ(w2v::format_duration(59.9), "00:59");
  EXPECT_EQ(w2v::format_duration(3725), "1:02:05");
  EXPECT_EQ(w2v::format_duration(-1), "00:00");
}

TEST(Progress, RedrawsAtMostFourTimesASecondButAlwaysAtTheEnd) {
  std::ostringstream out;
  {
    w2v::Progress p("p", 3, out, 80);
    p.update(1);  // first update draws
    p.update(2);  // within 0.25 s: no redraw
    EXPECT_EQ(draws(out), 1);
    p.update(3);  // reaching the total draws
    EXPECT_EQ(draws(out), 2);
    p.clear();
    EXPECT_EQ(out.str().substr(out.str().size() - 4), "\r\x1b[K");
    p.finish();
    const std::string s = out.str();
    EXPECT_EQ(s.back(), '\n');
    EXPECT_NE(s.find("3/3"), std::string::npos);
  }
  // finish() ended the line; the destructor adds nothing.
  const std::string all = out.str();
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 1);
}

TEST(Progress, SilentWhenStderrIsNotATerminal) {
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  std::FILE* tmp = std::tmpfile();
  ASSERT_NE(tmp, nullptr);
  dup2(fileno(tmp), STDERR_FILENO);
  bool active = true;
  {
    w2v::Progress p("quiet", 10);
    active = p.active();
    p.update(5, {{"loss", 1.0}});
    p.clear();
    p.finish();
  }
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  EXPECT_FALSE(active);
  std::fseek(tmp, 0, SEEK_END);
  EXPECT_EQ(std::ftell(tmp), 0L);
  std::fclose(tmp);
}
