#include <gtest/gtest.h>

#include "util/error.h"

TEST(Error, FileErrorNamesFileAndLine) {
  EXPECT_STREQ(w2v::file_error("a.tsv", 3, "bad").what(), "a.tsv:3: bad");
  EXPECT_STREQ(w2v::file_error("a.tsv", 0, "bad").what(), "a.tsv: bad");
}

TEST(Error, KeyErrorNamesKey) {
  EXPECT_STREQ(w2v::key_error("model.foo", "unknown").what(), "key 'model.foo': unknown");
}
