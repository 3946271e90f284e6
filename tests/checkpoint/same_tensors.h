// Test helper shared by the checkpoint tests: two loaded models hold the same parameter names,
// in the same order, with bit-equal values.
#pragma once

#include <gtest/gtest.h>

#include "checkpoint/model_io.h"
#include "checkpoint/state_dict.h"

namespace w2v::ckpt::testing {

inline void expect_same_tensors(const LoadedModel& a, const LoadedModel& b) {
  Value sa = state_dict(a.module()), sb = state_dict(b.module());
  ASSERT_EQ(sa.as_dict().items.size(), sb.as_dict().items.size());
  for (size_t i = 0; i < sa.as_dict().items.size(); ++i) {
    EXPECT_EQ(sa.as_dict().items[i].first.as_string(), sb.as_dict().items[i].first.as_string());
    EXPECT_TRUE(torch::equal(sa.as_dict().items[i].second.as_tensor(), sb.as_dict().items[i].second.as_tensor()))
        << sa.as_dict().items[i].first.as_string();
  }
}

}  // namespace w2v::ckpt::testing
