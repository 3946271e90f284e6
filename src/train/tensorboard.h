// TensorBoard event files, written natively (no protobuf or TensorFlow library): TFRecord
// framing around hand-encoded `Event` protobufs carrying scalar `Summary` values, the subset
// of tensorboardX's SummaryWriter.add_scalar that fairseq's training logs use.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace w2v::train {

// CRC-32C (Castagnoli) and TFRecord's masking of it: rotate right by 15, add 0xa282ead8.
uint32_t crc32c(const std::string& bytes);
uint32_t masked_crc32c(const std::string& bytes);

// One TFRecord: uint64 length, masked CRC of the length bytes, data, masked CRC of the data
// (all little-endian).
std::string tfrecord(const std::string& data);

// Serialized Event{wall_time=1, step=2, file_version=3} (the file's first event) and
// Event{wall_time=1, step=2, summary=5 {value=1 {tag=1, simple_value=2}...}}.
std::string file_version_event(double wall_time);
std::string scalars_event(double wall_time, int64_t step, const std::vector<std::pair<std::string, double>>& scalars);

// One event file in `dir` (created if missing), named events.out.tfevents.<time>.<host>.<pid>
// as TensorBoard expects; a resumed run adds a new file beside the old ones.
class SummaryWriter {
 public:
  explicit SummaryWriter(const std::string& dir);
  // Appends one event with these scalars at `step`, stamped with the current time, and
  // flushes it so that a running TensorBoard sees it.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  const std::string& path() const { return path_; }

 private:
  void append(const std::string& event);

  std::string path_;
  std::ofstream out_;
};

}  // namespace w2v::train
