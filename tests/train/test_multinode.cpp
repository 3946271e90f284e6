// Multi-node data parallel between two "machines": two network namespaces joined by a veth
// pair (rank 0 at 192.168.77.1, rank 1 at 192.168.77.2, addresses of these test hosts only),
// one `w2v train` in each. Checks both launch styles against one process with update_freq 2,
// and that a rank that never arrives or dies makes the other exit with one line naming it.
// Needs root and iproute2 (CI has both); elsewhere every test is SKIPPED with the reason.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "common/run_command.h"
#include "train/child_process.h"
#include "train/tiny_run.h"

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup

const std::string kAddr0 = "192.168.77.1", kAddr1 = "192.168.77.2";
// Rendezvous ports (inside the namespaces, so nothing else uses them): 29511 torchrun-style,
// 29512-29513 fairseq-style, 29515 absent rank, 29516 dying rank.

// Two namespaces for the whole suite, named after this process so that runs do not collide.
class Namespaces {
 public:
  Namespaces() : a_("w2vA" + std::to_string(getpid())), b_("w2vB" + std::to_string(getpid())) {
    const std::string va = "w2va" + std::to_string(getpid()), vb = "w2vb" + std::to_string(getpid());
    const std::string script = "set -e; ip netns add " + a_ + "; ip netns add " + b_ + "; ip link add " + va +
                               " type veth peer name " + vb + "; ip link set " + va + " netns " + a_ +
                               "; ip link set " + vb + " netns " + b_ + "; ip -n " + a_ + " addr add " + kAddr0 +
                               "/24 dev " + va + "; ip -n " + b_ + " addr add " + kAddr1 + "/24 dev " + vb +
                               "; for n in " + a_ + " " + b_ + "; do ip -n $n link set lo up; done; ip -n " + a_ +
                               " link set " + va + " up; ip -n " + b_ + " link set " + vb + " up";
    std::string out;
    if (geteuid() != 0) {
      why_not_ = "network namespaces need root (CI runs as root)";
    } else if (run_command("command -v ip", out) != 0) {
      why_not_ = "iproute2's `ip` is not installed (scripts/setup.sh installs it)";
    } else if (run_command("sh -c '" + script + "'", out) != 0) {
      why_not_ = "cannot create network namespaces here: " + out.substr(0, out.find('\n'));
      remove();
    }
  }
  ~Namespaces() { remove(); }
  const std::string& why_not() const { return why_not_; }
  // argv prefix that runs a command in namespace 0 or 1.
  std::vector<std::string> in(int n) const { return {"ip", "netns", "exec", n == 0 ? a_ : b_}; }

 private:
  void remove() {
    std::string out;
    run_command("ip netns del " + a_ + "; ip netns del " + b_, out);  // takes the veth pair along
  }
  std::string a_, b_, why_not_;
};

Namespaces& namespaces() {
  static Namespaces n;
  return n;
}

std::vector<std::string> train_argv(const std::vector<std::string>& prefix, const std::vector<std::string>& env,
                                    const std::vector<std::string>& overrides) {
  std::vector<std::string> argv = prefix;
  argv.push_back("env");
  argv.insert(argv.end(), env.begin(), env.end());
  for (const std::string a : {W2V_BINARY, "train", "--config", kPretrainConfig.c_str(), "--threads", "1"})
    argv.push_back(a);
  argv.insert(argv.end(), overrides.begin(), overrides.end());
  return argv;
}

std::vector<std::string> two_ranks(std::vector<std::string> o, const std::vector<std::string>& more = {}) {
  o.push_back("distributed_training.distributed_world_size=2");
  o.push_back("distributed_training.rendezvous_timeout=60");
  o.push_back("distributed_training.heartbeat_timeout=60");
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

// The single-process reference: update_freq 2, 3 updates (2 batches each), on the same corpus
// as make_corpus(name, 8) makes for every test. Its folder is named after the running test:
// ctest runs tests in parallel processes, and one shared folder was removed by one test while
// another trained in it.
const std::vector<json>& reference() {
  static std::vector<json> lines;
  if (lines.empty()) {
    const std::string data =
        make_corpus(std::string("mn_single_") + ::testing::UnitTest::GetInstance()->current_test_info()->name(), 8);
    auto o = pretrain_overrides(data, data + "/single", 3);
    o.push_back("optimization.update_freq=[2]");
    Child c = start_child(train_argv({}, {}, o), data + "/single.out", data + "/single.err");
    EXPECT_EQ(wait_child(c, 600), 0) << w2v::read_file(data + "/single.err");
    lines = tagged(parse_log(w2v::read_file(data + "/single.out")), "train_inner");
  }
  return lines;
}

void expect_same_trajectory(const std::vector<json>& ddp, const std::vector<json>& single) {
  ASSERT_EQ(ddp.size(), 3u);
  ASSERT_EQ(single.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ddp[i]["bsz"], single[i]["bsz"]);
    EXPECT_NEAR(ddp[i]["loss"].get<double>(), single[i]["loss"].get<double>(),
                1e-5 * std::abs(single[i]["loss"].get<double>())) << i;
    EXPECT_NEAR(ddp[i]["gnorm"].get<double>(), single[i]["gnorm"].get<double>(), 1e-4 * single[i]["gnorm"].get<double>()) << i;
  }
}

// The user-facing error: one line, no c10 stack trace.
void expect_one_clean_line(const std::string& err) {
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.find("Exception raised from"), std::string::npos) << err;
  EXPECT_EQ(err.find("frame #"), std::string::npos) << err;
  EXPECT_EQ(err.find("internal error"), std::string::npos) << err;
}

class MultiNode : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!namespaces().why_not().empty()) GTEST_SKIP() << namespaces().why_not();
  }
};

}  // namespace

TEST_F(MultiNode, TorchrunStyleTwoNodesMatchOneProcessWithUpdateFreq2) {
  const std::string data = make_corpus("mn_torchrun", 8);  // 2 batches per epoch
  const auto& single = reference();
  const auto o = two_ranks(pretrain_overrides(data, data + "/ddp", 3));
  std::vector<Child> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(start_child(train_argv(namespaces().in(r),
                                           {"RANK=" + std::to_string(r), "LOCAL_RANK=0", "WORLD_SIZE=2",
                                            "MASTER_ADDR=" + kAddr0, "MASTER_PORT=29511"},
                                           o),
                                data + "/rank" + std::to_string(r) + ".out", data + "/rank" + std::to_string(r) + ".err"));
  for (int r = 0; r < 2; ++r)
    EXPECT_EQ(wait_child(ranks[r], 600), 0) << w2v::read_file(ranks[r].err);
  expect_same_trajectory(tagged(parse_log(w2v::read_file(ranks[0].out)), "train_inner"), single);
  EXPECT_TRUE(fs::exists(data + "/ddp/checkpoint_last.pt"));
  EXPECT_EQ(w2v::read_file(ranks[1].out), "");  // rank 1 logs nothing and saves nothing
}

// Also a resume: after 2 updates both restart; rank 1's machine has no checkpoint (its own
// save_dir is empty), so it must take rank 0's state as fairseq's broadcast does.
TEST_F(MultiNode, FairseqStyleTwoNodesMatchOneProcessWithUpdateFreq2AcrossAResume) {
  const std::string data = make_corpus("mn_fairseq", 8);
  const auto& single = reference();
  std::vector<json> inner;
  for (int max_update : {2, 3}) {
    std::vector<Child> ranks;
    for (int r = 0; r < 2; ++r) {
      const std::string log = data + "/u" + std::to_string(max_update) + "rank" + std::to_string(r);
      ranks.push_back(start_child(
          train_argv(namespaces().in(r), {},
                     two_ranks(pretrain_overrides(data, data + "/ddp" + std::to_string(r), max_update),
                               {"distributed_training.distributed_init_method=tcp://" + kAddr0 + ":" +
                                    std::to_string(29510 + max_update),
                                "distributed_training.distributed_rank=" + std::to_string(r),
                                "distributed_training.nprocs_per_node=1"})),
          log + ".out", log + ".err"));
    }
    for (int r = 0; r < 2; ++r)
      EXPECT_EQ(wait_child(ranks[r], 600), 0) << w2v::read_file(ranks[r].err);
    for (const auto& j : tagged(parse_log(w2v::read_file(ranks[0].out)), "train_inner")) inner.push_back(j);
  }
  expect_same_trajectory(inner, single);
  EXPECT_FALSE(fs::exists(data + "/ddp1/checkpoint_last.pt"));  // only rank 0 writes
}

TEST_F(MultiNode, RankThatNeverArrivesIsNamedWithinTheRendezvousTimeout) {
  const std::string data = make_corpus("mn_absent", 4);
  const auto o = two_ranks(pretrain_overrides(data, data + "/run", 3), {"distributed_training.rendezvous_timeout=5"});
  const auto t0 = std::chrono::steady_clock::now();
  Child r0 = start_child(train_argv(namespaces().in(0),
                                    {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=" + kAddr0, "MASTER_PORT=29515"}, o),
                         data + "/r0.out", data + "/r0.err");
  EXPECT_EQ(wait_child(r0, 120), 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 60);
  const std::string err = w2v::read_file(r0.err);
  EXPECT_NE(err.find("rank 0 of 2, rendezvous " + kAddr0 + ":29515: rank 1 never arrived within 5 s"), std::string::npos) << err;
  expect_one_clean_line(err);
  // And the other way round: rank 1 whose master is not there.
  Child r1 = start_child(train_argv(namespaces().in(1),
                                    {"RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=" + kAddr0, "MASTER_PORT=29515"}, o),
                         data + "/r1.out", data + "/r1.err");
  EXPECT_EQ(wait_child(r1, 120), 1);
  const std::string err1 = w2v::read_file(r1.err);
  EXPECT_NE(err1.find("rank 1 of 2, rendezvous " + kAddr0 + ":29515: master (rank 0) not reachable within 5 s"),
            std::string::npos) << err1;
  expect_one_clean_line(err1);
}

TEST_F(MultiNode, RankThatDiesMidTrainingIsNamedAndTheOtherExits) {
  const std::string data = make_corpus("mn_dies", 8);
  const auto o = two_ranks(pretrain_overrides(data, data + "/run", 100000), {"lr_scheduler.total_num_update=100000"});
  std::vector<Child> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(start_child(train_argv(namespaces().in(r),
                                           {"RANK=" + std::to_string(r), "WORLD_SIZE=2", "MASTER_ADDR=" + kAddr0,
                                            "MASTER_PORT=29516"},
                                           o),
                                data + "/rank" + std::to_string(r) + ".out", data + "/rank" + std::to_string(r) + ".err"));
  ASSERT_TRUE(wait_for_text(ranks[0].out, "train_inner", 300)) << w2v::read_file(ranks[0].err);
  kill(ranks[1].pid, SIGKILL);  // `ip netns exec` and `env` exec into w2v: this is rank 1 itself
  wait_child(ranks[1], 30);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_child(ranks[0], 120), 1);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 90);
  const std::string err = w2v::read_file(ranks[0].err);
  EXPECT_NE(err.find("rank 0 of 2, rendezvous " + kAddr0 + ":29516: the all-reduce with rank 1 at " + kAddr1),
            std::string::npos) << err;
  expect_one_clean_line(err);
}
