// Cyclic values built from input are freed: shared ownership alone never frees a cycle, so the
// unpickler (on success and on error) and checked()'s omegaconf conversion must break them.
// A tensor inside each cycle is the witness: once everything is freed, the test holds its only
// reference (use_count 1); a leaked cycle keeps a second one.
#include <gtest/gtest.h>

#include <string>

#include "checkpoint/omegaconf.h"
#include "checkpoint/pickle.h"
#include "util/error.h"

namespace w2v::ckpt {
namespace {

// A pickle whose persistent ids (BINPERSID) all load the witness tensor.
Value unpickle_with(const std::string& bytes, const torch::Tensor& witness) {
  PersistentLoad load = [&](const Value&) { return Value::tensor(witness); };
  return unpickle(bytes, "mem", load);
}

// ] 2 a: a list L that contains itself; N Q a: the witness appended to it (L = [L, T]).
const std::string kSelfList = std::string("]2aNQa");

TEST(PickleRelease, CycleBesideTheResultIsFreed) {
  torch::Tensor t = torch::zeros({2});
  // L is popped (0), None is the result: nothing references L, yet it references itself.
  Value v = unpickle_with(kSelfList + "0N.", t);
  EXPECT_TRUE(v.is_none());
  EXPECT_EQ(t.use_count(), 1);
}

TEST(PickleRelease, CycleHeldByAFailingOpcodeIsFreed) {
  torch::Tensor t = torch::zeros({2});
  // N R: REDUCE pops the arguments (None) and then L as the callable into locals, and fails.
  EXPECT_THROW(unpickle_with(kSelfList + "NR.", t), Error);
  EXPECT_EQ(t.use_count(), 1);
  // The same for APPEND onto None (L popped as the item) and a truncated input after a memo put.
  EXPECT_THROW(unpickle_with("N" + kSelfList + "a.", t), Error);
  EXPECT_EQ(t.use_count(), 1);
  EXPECT_THROW(unpickle_with(kSelfList + "q\x01X", t), Error);
  EXPECT_EQ(t.use_count(), 1);
}

TEST(PickleRelease, ResultIsKeptIntact) {
  torch::Tensor t = torch::zeros({2});
  // Garbage L beside a result [T] that shares nothing with it: the result keeps its tensor.
  Value v = unpickle_with(kSelfList + "0]NQa.", t);
  ASSERT_EQ(v.items().size(), 1u);
  EXPECT_TRUE(v.items()[0].is(Value::Kind::Tensor));
  EXPECT_EQ(t.use_count(), 2);
  v = Value();
  EXPECT_EQ(t.use_count(), 1);
}

// What checked() does with an omegaconf tree: Y (the result) has `_parent` Z, which the plain
// tree drops; Z's content holds a node W whose `_parent` is Z again (a cycle only reachable
// through the dropped part) and the witness as W's value.
TEST(PickleRelease, OmegaconfParentCyclesOutsideThePlainTreeAreFreed) {
  torch::Tensor t = torch::zeros({2});
  {
    auto config = [](Value content, Value parent) {
      Value state = Value::dict();
      state.set("_content", std::move(content));
      state.set("_parent", std::move(parent));
      return Value::object("omegaconf.dictconfig", "DictConfig", Value::tuple(), std::move(state), true);
    };
    Value z = config(Value::dict(), Value());
    Value w_state = Value::dict();
    w_state.set("_val", Value::tensor(t));
    w_state.set("_parent", z);
    Value w = Value::object("omegaconf.nodes", "AnyNode", Value::tuple(), w_state, true);
    z.as_object().state->get("_content").as_dict().items.emplace_back(Value::string("w"), w);
    Value y = config(Value::dict(), z);
    z = w = w_state = Value();

    Value plain = plain_omegaconf(y);
    EXPECT_TRUE(plain.is(Value::Kind::Dict));
    EXPECT_TRUE(plain.as_dict().items.empty());
    release_unreachable({std::move(y)}, plain);
  }
  EXPECT_EQ(t.use_count(), 1);
}

TEST(PickleRelease, ReleaseUnreachableLeavesTheKeptTreeAlone) {
  torch::Tensor t = torch::zeros({2});
  Value shared = Value::list({Value::tensor(t)});
  Value kept = Value::list({shared});
  Value dropped = Value::list({shared});
  dropped.items().push_back(dropped);  // a cycle
  release_unreachable({dropped}, kept);
  EXPECT_TRUE(dropped.items().empty());
  ASSERT_EQ(shared.items().size(), 1u);
  EXPECT_TRUE(shared.items()[0].is(Value::Kind::Tensor));
}

}  // namespace
}  // namespace w2v::ckpt
