// Issue 13's training defects, each reproduced: bad settings and empty data end in one error
// naming the key or file (they crashed or looped forever), save_dir problems are found at
// start, one run owns a save_dir, and `w2v train`'s workers die with their parent.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "train/child_process.h"
#include "train/tiny_run.h"
#include "util/error.h"

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup

// The error the Trainer's construction (or, with train = true, its run) ends in.
std::string error_of(const std::vector<std::string>& overrides, bool train = false) {
  try {
    std::ostringstream out;
    w2v::train::Trainer t(Config::load(kPretrainConfig, overrides), out);
    if (train) t.train();
  } catch (const w2v::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> with(std::vector<std::string> o, const std::vector<std::string>& more) {
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

class TrainSafety : public ::testing::Test {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

}  // namespace

TEST_F(TrainSafety, UpdateFreqOutsideItsRangeNamesTheKey) {
  const std::string data = make_corpus("uf", 3);
  // [] crashed (SIGSEGV), [0] and [-1] looped forever.
  for (const char* uf : {"[]", "[0]", "[-1]", "[1, 0]"}) {
    const std::string e = error_of(with(pretrain_overrides(data, data + "/run", 2), {std::string("optimization.update_freq=") + uf}));
    EXPECT_NE(e.find("'optimization.update_freq'"), std::string::npos) << uf << ": " << e;
  }
  for (const auto& [o, key] : std::vector<std::pair<std::string, std::string>>{
           {"model.num_negatives=0", "model.num_negatives"}, {"dataset.max_tokens=-5", "dataset.max_tokens"},
           {"distributed_training.distributed_world_size=0", "distributed_training.distributed_world_size"},
           {"model.mask_prob=1.5", "model.mask_prob"}})
    EXPECT_NE(error_of(with(pretrain_overrides(data, data + "/run", 2), {o})).find("'" + key + "'"), std::string::npos) << o;
}

TEST_F(TrainSafety, FullyFilteredTrainingSetNamesTheFile) {
  const std::string data = make_corpus("filtered", 3);
  const std::string e = error_of(with(pretrain_overrides(data, data + "/run", 2), {"task.min_sample_size=1000000"}));
  EXPECT_NE(e.find(data + "/train.tsv: no training samples (3 skipped by task.min_sample_size=1000000"), std::string::npos) << e;
}

TEST_F(TrainSafety, EpochWithoutAnUpdateIsAnErrorNotALoop) {
  // One item, two batches per update and the remainder skipped: no epoch can ever update.
  const std::string data = make_corpus("noupdate", 1);
  const std::string e = error_of(
      with(pretrain_overrides(data, data + "/run", 2), {"optimization.update_freq=[2]", "optimization.skip_remainder_batch=true"}),
      /*train=*/true);
  EXPECT_NE(e.find("an epoch of the training set gives no update (1 samples"), std::string::npos) << e;
}

TEST_F(TrainSafety, UnusableSaveDirIsFoundAtStart) {
  const std::string data = make_corpus("savedir", 3);
  w2v::write_file_atomic(data + "/a_file", "x");
  const std::string e = error_of(pretrain_overrides(data, data + "/a_file/ckpt", 2));
  EXPECT_NE(e.find("'checkpoint.save_dir': cannot create directory '" + data + "/a_file/ckpt'"), std::string::npos) << e;
  if (geteuid() != 0) {  // root writes anywhere: only the file case above applies to it
    fs::create_directories(data + "/ro");
    fs::permissions(data + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    const std::string ro = error_of(pretrain_overrides(data, data + "/ro", 2));
    EXPECT_NE(ro.find("'" + data + "/ro' is not writable"), std::string::npos) << ro;
  }
}

TEST_F(TrainSafety, OneRunPerSaveDirAndStaleTempFilesRemoved) {
  const std::string data = make_corpus("lock", 3);
  const std::string dir = data + "/run";
  fs::create_directories(dir);
  for (const char* f : {"checkpoint_last.pt.tmp.4242", "checkpoint_1_3.pt.tmp.77", "notes.tmp.txt"})
    w2v::write_file_atomic(dir + "/" + f, "partial");
  std::ostringstream out;
  {
    w2v::train::Trainer first(Config::load(kPretrainConfig, pretrain_overrides(data, dir, 1)), out);
    EXPECT_FALSE(fs::exists(dir + "/checkpoint_last.pt.tmp.4242"));
    EXPECT_FALSE(fs::exists(dir + "/checkpoint_1_3.pt.tmp.77"));
    EXPECT_TRUE(fs::exists(dir + "/notes.tmp.txt"));
    EXPECT_NE(out.str().find("removed 2 temp file(s) of interrupted saves"), std::string::npos) << out.str();
    const std::string e = error_of(pretrain_overrides(data, dir, 1));
    EXPECT_NE(e.find("'checkpoint.save_dir': '" + dir + "' is in use by another training run (pid " +
                     std::to_string(getpid()) + " on "),
              std::string::npos)
        << e;
  }
  EXPECT_EQ(error_of(pretrain_overrides(data, dir, 1)), "(no error)");  // released with its holder
}

TEST_F(TrainSafety, NonFiniteStopWithNoSaveSaysNothingWasSaved) {
  const std::string data = make_corpus("nonfinite", 3);
  // A learning rate of 1e30 sends the weights to infinity after the first update.
  const std::string e = error_of(with(pretrain_overrides(data, data + "/run", 30),
                                      {"optimization.lr=[1e30]", "checkpoint.no_save=true"}),
                                 /*train=*/true);
  EXPECT_NE(e.find("consecutive updates had a non-finite loss or gradient"), std::string::npos) << e;
  EXPECT_NE(e.find("no checkpoint saved"), std::string::npos) << e;
  EXPECT_EQ(e.find("checkpoint_last.pt saved"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(data + "/run/checkpoint_last.pt"));
}

// kill -9 or SIGTERM to `w2v train` must take its workers with it: they used to keep training
// and writing checkpoints into the save_dir that a restart then shared with them.
TEST_F(TrainSafety, WorkersDieWithTheirParent) {
  const std::string data = make_corpus("orphans", 8);
  for (int sig : {SIGKILL, SIGTERM}) {
    const std::string dir = data + "/run" + std::to_string(sig);
    std::vector<std::string> argv{W2V_BINARY, "train", "--config", kPretrainConfig, "--threads", "1"};
    for (const auto& o : pretrain_overrides(data, dir, 100000)) argv.push_back(o);
    // fairseq-style launch on this machine: 2 workers whatever the number of cores.
    for (const char* o : {"distributed_training.distributed_world_size=2", "distributed_training.nprocs_per_node=2",
                          "checkpoint.save_interval_updates=1", "lr_scheduler.total_num_update=100000"})
      argv.push_back(o);
    argv.push_back("distributed_training.distributed_init_method=tcp://127.0.0.1:" + std::to_string(free_port()));
    Child parent = start_child(argv, dir + ".out", dir + ".err");
    ASSERT_TRUE(wait_for_text(dir + ".out", "train_inner", 300)) << w2v::read_file(dir + ".err");
    const std::vector<pid_t> workers = children_of(parent.pid);
    ASSERT_EQ(workers.size(), 2u);
    kill(parent.pid, sig);
    wait_child(parent, 30);
    const auto t0 = std::chrono::steady_clock::now();
    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
      gone = !alive(workers[0]) && !alive(workers[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(gone) << "signal " << sig << ": workers " << workers[0] << ", " << workers[1] << " outlived their parent";
    for (pid_t w : workers)
      if (alive(w)) kill(w, SIGKILL);
    // Nobody holds the save_dir any more.
    EXPECT_EQ(error_of(pretrain_overrides(data, dir, 1)), "(no error)") << "signal " << sig;
  }
}
