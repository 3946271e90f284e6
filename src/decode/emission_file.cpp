#include "decode/emission_file.h"

#include <cstring>
#include <ostream>

#include "util/error.h"
#include "util/fs.h"

namespace w2v::decode {

namespace {

constexpr char kMagic[8] = {'W', '2', 'V', 'E', 'M', 'I', 'S', '1'};

template <class T>
void put(std::ostream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

bool parse_row(const std::string& id, uint64_t& row) {
  bool digits = !id.empty() && id.size() < 20;
  for (char c : id) digits = digits && c >= '0' && c <= '9';
  if (digits) row = std::stoull(id);
  return digits;
}

void write_emissions(const std::string& path, const std::vector<EmissionMatrix>& utterances) {
  write_atomic(path, [&](std::ostream& out) {
    out.write(kMagic, sizeof kMagic);
    put<uint64_t>(out, utterances.size());
    for (const auto& u : utterances) {
      if (u.data.size() != static_cast<size_t>(u.frames) * u.vocab)
        throw Error(path + ": utterance " + u.id + " has " + std::to_string(u.data.size()) +
                    " values, expected frames x vocab = " + std::to_string(static_cast<size_t>(u.frames) * u.vocab));
      uint64_t row = 0;
      if (!parse_row(u.id, row))
        throw Error(path + ": utterance id '" + u.id + "' is not a manifest row number (the file keys utterances by row)");
      put<uint64_t>(out, row);
      put<uint32_t>(out, static_cast<uint32_t>(u.frames));
      put<uint32_t>(out, static_cast<uint32_t>(u.vocab));
      out.write(reinterpret_cast<const char*>(u.data.data()), static_cast<std::streamsize>(u.data.size() * sizeof(float)));
    }
  });
}

std::vector<EmissionMatrix> read_emissions(const std::string& path) {
  const std::string content = read_file(path);
  size_t pos = 0;
  auto take = [&](void* into, size_t bytes, const char* what) {
    if (content.size() - pos < bytes)
      throw file_error(path, 0, std::string("truncated emissions file: expected ") + what + " at byte " +
                                    std::to_string(pos) + ", file has " + std::to_string(content.size()) + " bytes");
    std::memcpy(into, content.data() + pos, bytes);
    pos += bytes;
  };
  char magic[8];
  take(magic, sizeof magic, "the magic 'W2VEMIS1'");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw file_error(path, 0, "not a w2v emissions file (expected the magic 'W2VEMIS1')");
  uint64_t count = 0;
  take(&count, sizeof count, "the utterance count");
  std::vector<EmissionMatrix> out;
  for (uint64_t i = 0; i < count; ++i) {
    EmissionMatrix u;
    uint64_t row = 0;
    uint32_t frames = 0, vocab = 0;
    take(&row, sizeof row, "an utterance id");
    u.id = std::to_string(row);
    take(&frames, sizeof frames, "a frame count");
    take(&vocab, sizeof vocab, "a vocabulary size");
    u.frames = static_cast<int>(frames);
    u.vocab = static_cast<int>(vocab);
    size_t n = static_cast<size_t>(frames) * vocab;
    if ((content.size() - pos) / sizeof(float) < n)
      throw file_error(path, 0, "truncated emissions file: utterance " + u.id + " needs " +
                                    std::to_string(n) + " floats");
    u.data.resize(n);
    take(u.data.data(), n * sizeof(float), "emission values");
    out.push_back(std::move(u));
  }
  if (pos != content.size())
    throw file_error(path, 0, std::to_string(content.size() - pos) + " trailing bytes after " + std::to_string(count) +
                                  " utterances");
  return out;
}

}  // namespace w2v::decode
