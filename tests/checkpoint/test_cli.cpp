// w2v import / w2v export through the binary: round trips keep every tensor, errors are one
// line naming the file.
#include <gtest/gtest.h>

#include <filesystem>

#include "checkpoint/helpers.h"
#include "checkpoint/model_io.h"
#include "checkpoint/same_tensors.h"
#include "checkpoint/state_dict.h"

namespace w2v::ckpt {
namespace {

using testing::expect_same_tensors;
using testing::oracle_fixtures;
using testing::run_w2v;
using testing::scratch_dir;

TEST(Cli, ImportThenExportRoundTrips) {
  const std::string models = oracle_fixtures("ckpt_models.py");
  for (const char* src : {"fairseq_ctc_args.pt", "hf_ctc", "fairseq_pretrain.pt"}) {
    SCOPED_TRACE(src);
    const std::string imported = scratch_dir() + "/imported_" + std::string(src) + ".pt";
    auto [rc, out] = run_w2v("import " + models + "/" + src + " -o " + imported);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("-> " + imported), std::string::npos) << out;
    LoadedModel original = load_model(models + "/" + src), ours = load_model(imported);
    expect_same_tensors(original, ours);

    const std::string hf = scratch_dir() + "/exported_hf_" + src;
    std::tie(rc, out) = run_w2v("export " + imported + " --format hf -o " + hf);
    ASSERT_EQ(rc, 0) << out;
    expect_same_tensors(ours, load_model(hf));

    const std::string fs = scratch_dir() + "/exported_fs_" + std::string(src) + ".pt";
    const bool ctc = ours.kind == ModelKind::kCtc;
    const std::string dict = scratch_dir() + "/exported_dict_" + src + ".txt";
    std::tie(rc, out) = run_w2v("export " + imported + " --format fairseq -o " + fs + (ctc ? " --dict-out " + dict : ""));
    ASSERT_EQ(rc, 0) << out;
    LoadedModel back = ctc ? load_model(fs, {dict}) : load_model(fs);
    expect_same_tensors(ours, back);
    if (ctc) EXPECT_EQ(back.dictionary->decode({4, 5, 6, 7}), ours.dictionary->decode({4, 5, 6, 7}));
  }
}

// Files as the real tools write them (state dicts with _metadata, fairseq layouts, sharded HF
// directories) go through `w2v info` and `w2v import` (issue 13: every one was rejected).
TEST(Cli, InfoAndImportReadRealLayouts) {
  const std::string models = oracle_fixtures("ckpt_models.py");
  for (const char* src : {"fairseq_ctc_args.pt", "fairseq_ctc_cfg.pt", "fairseq_pretrain_args.pt",
                          "fairseq_pretrain_dictconfig.pt", "hf_ctc_sharded_st", "hf_pretrain_sharded_bin"}) {
    SCOPED_TRACE(src);
    auto [rc, out] = run_w2v("info " + models + "/" + src);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("parameters: "), std::string::npos) << out;
    const std::string imported = scratch_dir() + "/real_" + std::string(src) + ".pt";
    std::tie(rc, out) = run_w2v("import " + models + "/" + src + " -o " + imported);
    ASSERT_EQ(rc, 0) << out;
    expect_same_tensors(load_model(models + "/" + src), load_model(imported));
  }
  // Issue 13's reproducer, a bare state dict: read (no pickle error), then refused as no model.
  const std::string bare = oracle_fixtures("ckpt_fixtures.py") + "/issue13_sd.pt";
  auto [rc, out] = run_w2v("info " + bare);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out, "w2v: error: " + bare + ": no 'model' state dict: not a fairseq/w2v checkpoint\n");
}

TEST(Cli, ErrorsAreOneLineNamingTheFile) {
  const std::string bad = oracle_fixtures("ckpt_fixtures.py") + "/hostile/wrong_magic.pt";
  auto [rc, out] = run_w2v("import " + bad + " -o " + scratch_dir() + "/never.pt");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out, "w2v: error: " + bad + ": not a PyTorch file (neither a zip archive nor the legacy magic number)\n");
  EXPECT_FALSE(std::filesystem::exists(scratch_dir() + "/never.pt"));

  std::tie(rc, out) = run_w2v("export " + bad + " --format onnx -o x");
  EXPECT_EQ(rc, 2) << out;  // usage error
}

}  // namespace
}  // namespace w2v::ckpt
