// The model table (config/model_fields.h) against the schema built from it and against every
// configs/**/*.yaml: each model.* key a config sets is a row of the table for its model._name,
// and every row reads back with its row's type.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "config/config.h"
#include "config/model_fields.h"
#include "config/schema.h"

namespace w2v::config {
namespace {

const std::string kRoot = W2V_SOURCE_DIR;

// The table's members at their defaults, as model::Wav2Vec2Config holds them.
struct Defaults {
#define W2V_MEMBER(type, name, default_value, hf_name, hf_default) type name = default_value;
  W2V_WAV2VEC2_FIELDS(W2V_MEMBER)
#undef W2V_MEMBER
};

// A key read with the getter of the row's type (throws w2v::Error when it does not parse).
void read(const Config& c, const std::string& key, std::string& out) { out = c.text(key); }
void read(const Config& c, const std::string& key, bool& out) { out = c.flag(key); }
void read(const Config& c, const std::string& key, int64_t& out) { out = c.integer(key); }
void read(const Config& c, const std::string& key, double& out) { out = c.real(key); }
void read(const Config& c, const std::string& key, LatentTemp& out) {
  const std::vector<double> v = c.reals(key);
  ASSERT_EQ(v.size(), 3u) << key;
  out = {v[0], v[1], v[2]};
}

// Reads every row of the chosen model's tables from `c` (set rows only) and returns their names.
std::set<std::string> read_rows(const Config& c, const std::string& where) {
  std::set<std::string> names;
  auto check = [&](const char* name, auto value) {
    names.insert(name);
    const std::string key = std::string("model.") + name;
    if (!c.is_set(key)) return;
    try {
      read(c, key, value);
    } catch (const std::exception& e) {
      ADD_FAILURE() << where << ": " << e.what();
    }
  };
  Defaults d;
  if (c.choice("model") == "wav2vec2") {
#define W2V_ROW(type, name, default_value, hf_name, hf_default) check(#name, d.name);
    W2V_WAV2VEC2_FIELDS(W2V_ROW)
#undef W2V_ROW
#define W2V_ROW(type, name, value)                                                                    \
  check(#name, type(value));                                                                          \
  if (c.is_set("model." #name)) {                                                                     \
    type got;                                                                                         \
    read(c, "model." #name, got);                                                                     \
    EXPECT_EQ(got, type(value)) << where << ": model." #name " must keep the plain architecture's value"; \
  }
    W2V_WAV2VEC2_FIXED_FIELDS(W2V_ROW)
#undef W2V_ROW
#define W2V_ROW(type, name, default_yaml, ignored) check(#name, type{});
    W2V_WAV2VEC2_UNUSED_FIELDS(W2V_ROW)
#undef W2V_ROW
  } else if (c.choice("model") == "wav2vec_ctc") {
#define W2V_ROW(name, default_value, member) check(#name, d.member);
    W2V_FINETUNING_OVERRIDES(W2V_ROW)
#undef W2V_ROW
#define W2V_ROW(type, name, default_yaml, ignored) check(#name, type{});
    W2V_FINETUNING_OWN_FIELDS(W2V_ROW)
#undef W2V_ROW
  } else {
    ADD_FAILURE() << where << ": model._name '" << c.choice("model") << "' has no table";
  }
  return names;
}

std::vector<std::string> yaml_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(kRoot + "/configs"))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  return out;
}

TEST(ModelFields, EveryConfigModelKeyIsATableRowOfItsTypeAndParses) {
  const std::vector<std::string> files = yaml_files();
  ASSERT_GE(files.size(), 14u);  // 10 fine-tuning, 2 pre-training, 2 synth recipe configs
  for (const std::string& path : files) {
    std::set<std::string> rows;
    try {
      rows = read_rows(Config::load(path), path);  // load checks each key's type against the schema
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    const YAML::Node model = YAML::LoadFile(path)["model"];
    ASSERT_TRUE(model.IsMap()) << path;
    for (const auto& kv : model) {
      const std::string key = kv.first.as<std::string>();
      if (key != "_name") EXPECT_EQ(rows.count(key), 1u) << path << ": model." << key << " is not in the table";
    }
  }
}

// The schema's model keys are exactly the table's rows, and the defaults it writes as YAML text
// read back as the table's C++ defaults (strings that YAML would read as a list stay strings).
TEST(ModelFields, SchemaIsTheTableWithItsDefaults) {
  for (const std::string choice : {"wav2vec2", "wav2vec_ctc"}) {
    std::set<std::string> schema_keys;
    for (const KeySpec& k : schema())
      if (k.section == "model" && k.choice == choice) schema_keys.insert(k.key);
    // task._name: wav2vec_ctc's normalize is ${task.normalize}.
    const Config c = Config::parse("task:\n  _name: audio_finetuning\nmodel:\n  _name: " + choice + "\n",
                                   "<" + choice + ">");
    EXPECT_EQ(read_rows(c, choice), schema_keys) << choice;
  }
  const Config c = Config::parse("model:\n  _name: wav2vec2\n", "<defaults>");
  const Defaults d;
  auto expect_default = [&](const char* name, const auto& expected) {
    std::decay_t<decltype(expected)> got{};
    read(c, std::string("model.") + name, got);
    EXPECT_EQ(got, expected) << name;
  };
#define W2V_ROW(type, name, default_value, hf_name, hf_default) expect_default(#name, d.name);
  W2V_WAV2VEC2_FIELDS(W2V_ROW)
#undef W2V_ROW
  const Config ctc = Config::parse("model:\n  _name: wav2vec_ctc\n", "<ctc defaults>");
  EXPECT_DOUBLE_EQ(ctc.real("model.mask_prob"), 0.5);  // fine-tuning's own defaults, not the encoder's
  EXPECT_DOUBLE_EQ(ctc.real("model.dropout"), 0.0);
  EXPECT_DOUBLE_EQ(ctc.real("model.feature_grad_mult"), 0.0);
}

// A value of the wrong type for a table row is rejected naming the key.
TEST(ModelFields, WrongTypeNamesTheKey) {
  try {
    Config::parse("model:\n  _name: wav2vec2\n  encoder_layers: twelve\n", "<bad>");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("model.encoder_layers"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace w2v::config
