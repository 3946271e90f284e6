// The PyTorch file reader/writer against Python's torch.save / torch.load (live oracle).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "checkpoint/helpers.h"
#include "checkpoint/pickle.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/torch_file.h"
#include "checkpoint/zip.h"
#include "util/error.h"
#include "util/fs.h"

namespace w2v::ckpt {
namespace {

using testing::run_oracle;
using testing::scratch_dir;
using json = nlohmann::json;

std::string fixtures() { return testing::oracle_fixtures("ckpt_fixtures.py"); }

// Compares a loaded value with the oracle's JSON description; `ptrs` maps Python storage
// pointers to ours so that storage sharing must match exactly.
void expect_matches(const Value& v, const json& e, const std::string& path, std::map<int64_t, const void*>& ptrs) {
  SCOPED_TRACE(path);
  const std::string type = e["type"];
  if (type == "None") {
    EXPECT_TRUE(v.is_none());
  } else if (type == "bool") {
    ASSERT_TRUE(v.is(Value::Kind::Bool)) << repr(v);
    EXPECT_EQ(v.as_bool(), e["value"].get<bool>());
  } else if (type == "int") {
    ASSERT_TRUE(v.is(Value::Kind::Int)) << repr(v);
    EXPECT_EQ(v.as_int(), e["value"].get<int64_t>());
  } else if (type == "float") {
    ASSERT_TRUE(v.is(Value::Kind::Float)) << repr(v);
    if (e["value"].is_null()) EXPECT_TRUE(std::isnan(v.as_double()));
    else EXPECT_EQ(v.as_double(), e["value"].get<double>());
  } else if (type == "str") {
    ASSERT_TRUE(v.is(Value::Kind::String)) << repr(v);
    EXPECT_EQ(v.as_string(), e["value"].get<std::string>());
  } else if (type == "bytes") {
    ASSERT_TRUE(v.is(Value::Kind::Bytes)) << repr(v);
    std::string b;
    for (int c : e["value"]) b += static_cast<char>(c);
    EXPECT_EQ(v.as_string(), b);
  } else if (type == "list" || type == "tuple") {
    ASSERT_TRUE(v.is(type == "list" ? Value::Kind::List : Value::Kind::Tuple)) << repr(v);
    ASSERT_EQ(v.items().size(), e["items"].size());
    for (size_t i = 0; i < v.items().size(); ++i)
      expect_matches(v.items()[i], e["items"][i], path + "[" + std::to_string(i) + "]", ptrs);
  } else if (type == "dict" || type == "OrderedDict") {
    ASSERT_TRUE(v.is(Value::Kind::Dict)) << repr(v);
    EXPECT_EQ(v.as_dict().ordered, type == "OrderedDict");
    ASSERT_EQ(v.as_dict().items.size(), e["items"].size());
    for (size_t i = 0; i < e["items"].size(); ++i) {
      expect_matches(v.as_dict().items[i].first, e["items"][i][0], path + ".<key>", ptrs);
      expect_matches(v.as_dict().items[i].second, e["items"][i][1], path + "." + repr(v.as_dict().items[i].first), ptrs);
    }
  } else if (type == "argparse.Namespace") {
    ASSERT_EQ(v.type_name(), "argparse.Namespace");
    ASSERT_EQ(v.as_object().state->as_dict().items.size(), e["attrs"].size());
    for (auto& [k, x] : e["attrs"].items()) expect_matches(v.get(k), x, path + "." + k, ptrs);
  } else if (type == "tensor") {
    ASSERT_TRUE(v.is(Value::Kind::Tensor)) << repr(v);
    const torch::Tensor& t = v.as_tensor();
    std::string dtype = c10::toString(t.scalar_type());
    std::map<std::string, std::string> names = {{"Float", "float32"}, {"Half", "float16"}, {"BFloat16", "bfloat16"},
                                                {"Double", "float64"}, {"Long", "int64"},  {"Int", "int32"},
                                                {"Short", "int16"},    {"Char", "int8"},   {"Byte", "uint8"},
                                                {"Bool", "bool"}};
    EXPECT_EQ(names[dtype], e["dtype"].get<std::string>());
    EXPECT_EQ(t.sizes().vec(), e["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.strides().vec(), e["stride"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.storage_offset(), e["offset"].get<int64_t>());
    auto expected = e["values"].get<std::vector<double>>();
    torch::Tensor flat = t.to(torch::kFloat64).flatten().contiguous();
    ASSERT_EQ(flat.numel(), static_cast<int64_t>(expected.size()));
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(flat[static_cast<int64_t>(i)].item<double>(), expected[i]);
    const void* ours = t.storage().data();
    auto [it, fresh] = ptrs.emplace(e["storage"].get<int64_t>(), ours);
    EXPECT_EQ(it->second, ours) << "storage sharing differs from Python";
    (void)fresh;
  } else {
    FAIL() << "unknown type " << type;
  }
}

// Scratch files the loader is fed (plain write: these are test inputs, not w2v outputs).
void write_scratch(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void check_fixture(const std::string& file) {
  std::ifstream in(fixtures() + "/expected.json");
  json expected = json::parse(in);
  Value v = load_torch_file(fixtures() + "/" + file);
  std::map<int64_t, const void*> ptrs;
  expect_matches(v, expected, file, ptrs);
  // Distinct Python storages must stay distinct here too.
  std::set<const void*> distinct;
  for (auto& [p, ours] : ptrs) distinct.insert(ours);
  EXPECT_EQ(distinct.size(), ptrs.size());
}

TEST(TorchFile, ZipSavedByPath) { check_fixture("by_path.pt"); }
TEST(TorchFile, ZipSavedToFileObject) { check_fixture("by_file.pt"); }
TEST(TorchFile, LegacyFormat) { check_fixture("legacy.pt"); }
TEST(TorchFile, PickleProtocol4) { check_fixture("proto4.pt"); }
TEST(TorchFile, PickleProtocol5) { check_fixture("proto5.pt"); }
TEST(TorchFile, Zip64) { check_fixture("zip64.pt"); }

TEST(TorchFile, NamespaceLooksLikeADict) {
  Value v = load_torch_file(fixtures() + "/by_file.pt");
  EXPECT_EQ(v.at("ns.w2v_args.encoder_layers").as_int(), 2);
  EXPECT_EQ(v.at("ns.arch").as_string(), "wav2vec_ctc");
  EXPECT_TRUE(v.has("ns"));
  EXPECT_FALSE(v.get("ns").has("nope"));
  try {
    v.at("ns.w2v_args.encoder_ffn_embed_dim");
    FAIL() << "missing key accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ns.w2v_args.encoder_ffn_embed_dim"), std::string::npos) << e.what();
  }
  try {
    v.at("ns.arch").as_int("ns.arch");
    FAIL() << "string read as int";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ns.arch: expected an int, got str"), std::string::npos) << e.what();
  }
}

// C++ writes, Python's torch.load reads: the tree, storage sharing and views must survive.
TEST(TorchFile, RoundTripThroughPython) {
  std::string pairs;
  for (const char* file : {"by_path.pt", "legacy.pt", "proto4.pt", "state_dict.pt", "state_dict_legacy.pt"}) {
    Value v = load_torch_file(fixtures() + "/" + file);
    std::string out = scratch_dir() + "/resaved_" + file;
    save_torch_file(out, v);
    pairs += " " + fixtures() + "/" + file + " " + out;
    // And our own reader gives back the same tree.
    EXPECT_TRUE(equal(load_torch_file(out), v)) << file;
  }
  EXPECT_EQ(run_oracle("ckpt_fixtures.py", "compare" + pairs), "same\n");
}

// module.state_dict() sets `_metadata` on its OrderedDict (pickle BUILD with the instance
// __dict__); it is read as the dict's attributes (issue 13: it was rejected). A plain dict has
// no attributes, so BUILD with some on one is still an error.
TEST(TorchFile, StateDictMetadata) {
  for (const char* file : {"state_dict.pt", "state_dict_legacy.pt"}) {
    SCOPED_TRACE(file);
    Value v = load_torch_file(fixtures() + "/" + file);
    ASSERT_TRUE(v.as_dict().attrs);
    const Value& meta = v.as_dict().attrs->get("_metadata");
    EXPECT_TRUE(meta.as_dict().ordered);
    std::vector<std::string> modules;
    for (const auto& [k, x] : meta.as_dict().items) modules.push_back(k.as_string());
    EXPECT_EQ(modules, (std::vector<std::string>{"", "0", "1", "2"}));
    EXPECT_EQ(meta.get("1").get("version").as_int(), 1);
    EXPECT_EQ(v.get("0.weight").as_tensor().sizes(), (std::vector<int64_t>{2, 1, 3}));
  }
  Value bare = load_torch_file(fixtures() + "/issue13_sd.pt");
  EXPECT_EQ(bare.as_dict().attrs->at("_metadata").get("").get("version").as_int(), 1);
  EXPECT_TRUE(torch::equal(bare.get("a").as_tensor(), torch::zeros(2)));

  const std::string plain("\x80\x02}q\x00}X\x01\x00\x00\x00" "aK\x01sb.", 17);  // split: "\x00a" is one escape
  try {
    unpickle(plain, "mem", nullptr);
    FAIL() << "attributes on a plain dict accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("BUILD with attributes on a plain dict"), std::string::npos) << e.what();
  }
}

TEST(TorchFile, WrittenEntriesAre64ByteAligned) {
  Value v = Value::dict(true);
  v.set("a", Value::tensor(torch::arange(3, torch::kFloat32)));
  v.set("b", Value::tensor(torch::arange(5, torch::kInt64)));
  std::string out = scratch_dir() + "/aligned.pt";
  save_torch_file(out, v);
  std::string bytes = read_file(out);
  // Every local header's data start must be a multiple of 64.
  size_t found = 0;
  for (size_t p = bytes.find("PK\x03\x04"); p != std::string::npos; p = bytes.find("PK\x03\x04", p + 4)) {
    auto u16 = [&](size_t at) { return static_cast<size_t>(static_cast<unsigned char>(bytes[at])) |
                                       static_cast<size_t>(static_cast<unsigned char>(bytes[at + 1])) << 8; };
    size_t data = p + 30 + u16(p + 26) + u16(p + 28);
    EXPECT_EQ(data % 64, 0u) << bytes.substr(p + 30, u16(p + 26));
    ++found;
  }
  EXPECT_EQ(found, 4u);  // data.pkl, data/0, data/1, version
}

// The ZIP64 records our writer emits for > 4 GiB checkpoints, forced on a small file: both our
// reader and Python's torch.load must read it.
TEST(TorchFile, Zip64Writer) {
  const std::string src = fixtures() + "/by_file.pt", out = scratch_dir() + "/zip64_written.pt";
  const std::string bytes = read_file(src);
  ZipReader in(bytes, src);
  write_atomic(out, [&](std::ostream& os) {
    ZipWriter zip(os, /*zip64_from=*/0);
    for (const std::string& name : in.names()) zip.add(name, in.get(name));
    zip.finish();
  });
  EXPECT_NE(read_file(out).find("PK\x06\x06"), std::string::npos);  // ZIP64 end record present
  EXPECT_TRUE(equal(load_torch_file(out), load_torch_file(src)));
  EXPECT_EQ(run_oracle("ckpt_fixtures.py", "compare " + src + " " + out), "same\n");
}

void expect_error(const std::string& file, const std::string& words) {
  std::string path = fixtures() + "/hostile/" + file;
  try {
    load_torch_file(path);
    ADD_FAILURE() << file << " was accepted";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind(path, 0), 0u) << "error does not start with the path: " << what;
    EXPECT_NE(what.find(words), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "multi-line error: " << what;
  }
}

TEST(TorchFile, HostileFilesGiveClearErrors) {
  expect_error("huge_storage.pt", "declares 1152921504606846976 elements");
  expect_error("view_out_of_range.pt", "exceeds its storage of 4 elements");
  expect_error("missing_storage.pt", "missing storage entry archive/data/7");
  expect_error("bad_storage_class.pt", "not a torch storage class");
  expect_error("recursive.pt", "recursive structure");
  expect_error("deep.pt", "nested deeper than");
  expect_error("wrong_magic.pt", "not a PyTorch file");
  expect_error("truncated.pt", "zip");
  expect_error("bad_cd_offset.pt", "central directory");
  expect_error("legacy_truncated.pt", "truncated");
  expect_error("duplicate_entry.pt", "zip: entry archive/data.pkl appears twice");
}

// Repeated keys replace earlier values as in Python, found through a hash index: 200 000 keys
// load in well under a second where a scan per key took minutes.
TEST(TorchFile, ManyKeysLoadInLinearTime) {
  const auto start = std::chrono::steady_clock::now();
  Value v = load_torch_file(fixtures() + "/many_keys.pt");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(v.as_dict().items.size(), 200000u);
  EXPECT_EQ(v.as_dict().items[5].second.as_int(), 2);
  EXPECT_EQ(v.as_dict().items[6].second.as_int(), 1);
  EXPECT_LT(seconds, 20.0);  // generous for a loaded machine; the quadratic scan needs minutes
}

TEST(TorchFile, MissingFileNamesThePath) {
  try {
    load_torch_file(scratch_dir() + "/does_not_exist.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does_not_exist.pt: cannot open"), std::string::npos) << e.what();
  }
}

// Every truncation and many random byte flips of valid files: an error or a value, never a
// crash (run under the sanitizers by the fuzz harness too).
TEST(TorchFile, CorruptedFilesNeverCrash) {
  std::mt19937 rng(1);
  for (const char* file : {"by_file.pt", "legacy.pt", "proto4.pt"}) {
    const std::string good = read_file(fixtures() + "/" + file);
    const std::string path = scratch_dir() + "/corrupt.pt";
    int errors = 0, trials = 0;
    for (size_t cut = 0; cut < good.size(); cut += 29, ++trials) {
      write_scratch(path, good.substr(0, cut));
      try {
        load_torch_file(path);
      } catch (const Error&) {
        ++errors;
      }
    }
    EXPECT_EQ(errors, trials) << file << ": a truncated file was accepted";
    for (int i = 0; i < 150; ++i) {
      std::string bad = good;
      for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
      write_scratch(path, bad);
      try {
        load_torch_file(path);
      } catch (const Error&) {
      }
    }
  }
}

TEST(Pickle, IntegersAndFloatsRoundTrip) {
  Value v = Value::list({Value::integer(0), Value::integer(255), Value::integer(256), Value::integer(65536),
                         Value::integer(-1), Value::integer(INT64_MIN), Value::integer(INT64_MAX),
                         Value::real(-0.0), Value::real(1e300), Value::bytes(std::string("\x00\xff", 2))});
  std::string p = pickle(v, nullptr);
  EXPECT_TRUE(equal(unpickle(p, "mem", nullptr), v));
}

TEST(Safetensors, ReadsTensorsAndRejectsBadOffsets) {
  run_oracle("ckpt_fixtures.py", "safetensors " + scratch_dir() + "/st");
  Value v = load_safetensors(scratch_dir() + "/st/model.safetensors");
  std::ifstream in(scratch_dir() + "/st/expected.json");
  json expected = json::parse(in);
  ASSERT_EQ(v.as_dict().items.size(), expected.size());
  for (auto& [name, e] : expected.items()) {
    SCOPED_TRACE(name);
    const torch::Tensor& t = v.get(name).as_tensor();
    EXPECT_EQ(t.sizes().vec(), e["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(std::string(c10::toString(t.scalar_type())), e["dtype"].get<std::string>());
    auto values = e["values"].get<std::vector<double>>();
    torch::Tensor flat = t.to(torch::kFloat64).flatten();
    ASSERT_EQ(flat.numel(), static_cast<int64_t>(values.size()));
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(flat[static_cast<int64_t>(i)].item<double>(), values[i]);
  }
  try {
    load_safetensors(scratch_dir() + "/st/bad_offsets.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor w: data_offsets outside"), std::string::npos) << e.what();
  }
}

// Headers the safetensors library itself refuses are refused with the tensor named: offsets
// that leave a gap or overlap, data not covered, a repeated name, a length past the file.
TEST(Safetensors, HeaderChecks) {
  auto error_for = [](const std::string& header, size_t data_bytes, uint64_t declared = 0) {
    const std::string path = scratch_dir() + "/hostile.safetensors";
    std::string bytes(8, '\0');
    uint64_t n = declared ? declared : header.size();
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    std::ofstream(path, std::ios::binary) << bytes << header << std::string(data_bytes, '\1');
    try {
      load_safetensors(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  EXPECT_EQ(error_for("{" + a + "}", 8), "(no error)");
  std::string e = error_for("{" + a + R"(,"b":{"dtype":"U8","shape":[1],"data_offsets":[9,10]}})", 10);
  EXPECT_NE(e.find("tensor b: data_offsets [9, 10] leave a gap after the previous tensor's end 8"), std::string::npos) << e;
  e = error_for("{" + a + R"(,"b":{"dtype":"U8","shape":[2],"data_offsets":[7,9]}})", 9);
  EXPECT_NE(e.find("tensor b: data_offsets [7, 9] overlap the previous tensor's end 8"), std::string::npos) << e;
  e = error_for("{" + a + "}", 12);
  EXPECT_NE(e.find("tensors cover 8 of the 12 data bytes after the header"), std::string::npos) << e;
  e = error_for("{" + a + "," + a + "}", 8);
  EXPECT_NE(e.find("safetensors header: key 'a' appears twice in one object"), std::string::npos) << e;
  e = error_for("{" + a + "}", 8, uint64_t{1} << 62);
  EXPECT_NE(e.find("exceeds the file"), std::string::npos) << e;
}

}  // namespace
}  // namespace w2v::ckpt
