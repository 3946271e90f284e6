// Training-time augmentation through the trainer (issue 19): the task.augment_* keys reach the
// train split's loader only, bad values are one line naming the key, and a run with
// augmentation on resumes exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config/config.h"
#include "train/tiny_run.h"
#include "train/train_config.h"
#include "util/error.h"

namespace {

using namespace w2v::test;  // NOLINT: the shared tiny setup

w2v::train::TrainSettings settings(const std::vector<std::string>& overrides) {
  std::vector<std::string> o{"task.data=/d"};
  o.insert(o.end(), overrides.begin(), overrides.end());
  return w2v::train::read_train_settings(Config::load(kPretrainConfig, o));
}

std::string settings_error(const std::vector<std::string>& overrides) {
  try {
    settings(overrides);
  } catch (const w2v::Error& e) {
    return e.what();
  }
  return "(no error)";
}

const std::vector<std::string> kAugment{"task.augment_speed=[0.9,1.0,1.1]", "task.augment_noise_prob=0.5",
                                        "task.augment_noise_snr=[5,20]",    "task.augment_reverb_prob=0.3",
                                        "task.augment_reverb_rt60=[0.1,0.4]", "task.augment_band_prob=0.2",
                                        "task.augment_telephone_prob=0.1"};

}  // namespace

TEST(AugmentConfig, OffByDefaultAndTheKeysReachTheTrainLoaderOnly) {
  const auto plain = settings({});
  EXPECT_FALSE(plain.data.train.augment.enabled());
  EXPECT_FALSE(plain.data.valid.augment.enabled());

  const auto s = settings(kAugment);
  const w2v::data::AugmentOptions& a = s.data.train.augment;
  EXPECT_TRUE(a.enabled());
  EXPECT_EQ(a.speed, (std::vector<double>{0.9, 1.0, 1.1}));
  EXPECT_EQ(a.noise_prob, 0.5);
  EXPECT_EQ(a.noise_snr, (std::array<double, 2>{5, 20}));
  EXPECT_EQ(a.reverb_prob, 0.3);
  EXPECT_EQ(a.reverb_rt60, (std::array<double, 2>{0.1, 0.4}));
  EXPECT_EQ(a.band_prob, 0.2);
  EXPECT_EQ(a.telephone_prob, 0.1);
  EXPECT_FALSE(s.data.valid.augment.enabled());  // validation sees the audio as it is
}

TEST(AugmentConfig, BadValuesAreOneLineNamingTheKey) {
  struct Case {
    std::string override_, key, says;
  };
  const std::vector<Case> cases{
      {"task.augment_noise_prob=1.5", "task.augment_noise_prob", "must be in [0, 1], got 1.5"},
      {"task.augment_telephone_prob=-0.1", "task.augment_telephone_prob", "got -0.1"},
      {"task.augment_noise_snr=[30,10]", "task.augment_noise_snr", "low <= high, got [30, 10]"},
      {"task.augment_noise_snr=[10]", "task.augment_noise_snr", "expects 2 values, got 1"},
      {"task.augment_reverb_rt60=[0.8,0.2]", "task.augment_reverb_rt60", "low <= high"},
      {"task.augment_reverb_rt60=[0.2,5]", "task.augment_reverb_rt60", "must be in [0.01, 2], got 5"},
      {"task.augment_speed=[0.9,3]", "task.augment_speed", "must be in [0.5, 2], got 3"},
      {"task.augment_speed=[]", "task.augment_speed", "expects 1 or more values, got 0"},
      {"task.augment_noise=0.5", "task.augment_noise", "unknown key"},
  };
  for (const auto& c : cases) {
    const std::string e = settings_error({c.override_});
    EXPECT_NE(e.find(c.key), std::string::npos) << c.override_ << ": " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.override_ << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(AugmentTrain, PretrainingWithAugmentationIsAppliedAndResumesExactly) {
  torch::set_num_threads(1);
  const std::string data = make_corpus("augment");
  auto with = [&](const std::string& dir, int updates, bool augment) {
    std::vector<std::string> o = pretrain_overrides(data, data + "/" + dir, updates);
    if (augment) o.insert(o.end(), kAugment.begin(), kAugment.end());
    return tagged(run(Config::load(kPretrainConfig, o)), "train_inner");
  };
  const auto full = with("full", 4, true);
  ASSERT_EQ(full.size(), 4u);
  const auto plain = with("plain", 1, false);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_NE(plain[0]["loss"].get<double>(), full[0]["loss"].get<double>());  // the audio did change

  with("resumed", 2, true);  // interrupted mid-epoch after 2 updates, then resumed to 4
  const auto resumed = with("resumed", 4, true);
  ASSERT_EQ(resumed.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(resumed[i]["num_updates"], full[i + 2]["num_updates"]);
    EXPECT_NEAR(resumed[i]["loss"].get<double>(), full[i + 2]["loss"].get<double>(), 1e-6) << i;
    EXPECT_NEAR(resumed[i]["gnorm"].get<double>(), full[i + 2]["gnorm"].get<double>(), 1e-6) << i;
  }
}
