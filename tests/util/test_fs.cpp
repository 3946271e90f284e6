#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;

TEST(Fs, WriteAtomicReplacesContent) {
  fs::path dir = fs::temp_directory_path() / "w2v_test_fs";
  fs::create_directories(dir);
  std::string path = (dir / "x.txt").string();
  w2v::write_file_atomic(path, "one");
  w2v::write_file_atomic(path, "two");
  EXPECT_EQ(w2v::read_file(path), "two");
  fs::remove_all(dir);
}

TEST(Fs, FailedWriteLeavesOldFileAndNoTemp) {
  fs::path dir = fs::temp_directory_path() / "w2v_test_fs2";
  fs::create_directories(dir);
  std::string path = (dir / "x.txt").string();
  w2v::write_file_atomic(path, "old");
  EXPECT_THROW(w2v::write_atomic(path, [](std::ostream& out) {
                 out << "partial";
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  EXPECT_EQ(w2v::read_file(path), "old");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) (void)e, ++files;
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Fs, ReadMissingFileNamesIt) {
  try {
    w2v::read_file("/nonexistent/w2v.txt");
    FAIL();
  } catch (const w2v::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/w2v.txt"), std::string::npos);
  }
}
