// One training run per checkpoint.save_dir. The lock is an flock on save_dir/.w2v-train.lock,
// so it ends with its holder however that dies (kill -9 included); the file names the holder
// (pid, host, start time) for the error a second run gets. flock is local to a machine: on a
// network file system two machines can still share a save_dir (docs/training.md).
#pragma once

#include <cstdint>
#include <string>

namespace w2v::train {

class SaveDirLock {
 public:
  // Creates save_dir, proves it writable, takes the lock (w2v::Error naming checkpoint.save_dir
  // and the holder when another run has it) and removes the temp files "<name>.tmp.<pid>" that
  // saves killed mid-write left (no other run writes here while the lock is held).
  explicit SaveDirLock(const std::string& save_dir);
  ~SaveDirLock();
  SaveDirLock(const SaveDirLock&) = delete;
  SaveDirLock& operator=(const SaveDirLock&) = delete;

  int removed_temp_files() const { return removed_; }

 private:
  int fd_ = -1;
  int removed_ = 0;
};

// Keeps the `keep` newest update checkpoints "checkpoint_<epoch>_<updates><suffix>.pt" (all when
// keep <= 0), as fairseq's keep_interval_updates.
void remove_old_update_checkpoints(const std::string& save_dir, const std::string& suffix, int64_t keep);

}  // namespace w2v::train
