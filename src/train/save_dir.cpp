#include "train/save_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace fs = std::filesystem;

namespace w2v::train {
namespace {

const std::string kKey = "checkpoint.save_dir";

bool is_temp_file(const std::string& name) {
  const size_t at = name.rfind(".tmp.");
  return at != std::string::npos && at > 0 && at + 5 < name.size() &&
         name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

}  // namespace

SaveDirLock::SaveDirLock(const std::string& save_dir) {
  std::error_code ec;
  fs::create_directories(save_dir, ec);
  if (ec || !fs::is_directory(save_dir))
    throw key_error(kKey, "cannot create directory '" + save_dir + "': " + (ec ? ec.message() : "not a directory"));
  const std::string path = save_dir + "/.w2v-train.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw key_error(kKey, "'" + save_dir + "' is not writable: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[256] = "";
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    ::close(fd_);
    throw key_error(kKey, "'" + save_dir + "' is in use by another training run (" + who +
                              "); wait for it to end, stop it, or choose another save_dir");
  }
  char host[128] = "";
  ::gethostname(host, sizeof host - 1);
  const std::string me = "pid " + std::to_string(::getpid()) + " on " + host + ", started " +
                         std::to_string(static_cast<long long>(std::time(nullptr))) + "\n";
  // The lock file doubles as the writability probe: a full or read-only disk fails here.
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw key_error(kKey, "'" + save_dir + "' is not writable: " + why);
  }
  for (const auto& e : fs::directory_iterator(save_dir, ec))
    if (e.is_regular_file() && is_temp_file(e.path().filename().string()) && fs::remove(e.path(), ec)) ++removed_;
}

SaveDirLock::~SaveDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock; the file stays (removing it would race a new run)
}

void remove_old_update_checkpoints(const std::string& save_dir, const std::string& suffix, int64_t keep) {
  if (keep <= 0) return;
  std::vector<std::pair<int64_t, fs::path>> found;  // sorted newest first below
  for (const auto& e : fs::directory_iterator(save_dir)) {
    const std::string n = e.path().filename().string();
    const size_t a = n.find('_'), b = n.rfind('_');
    if (n.rfind("checkpoint_", 0) != 0 || a == b || n.size() < 4 || n.substr(n.size() - 3) != ".pt") continue;
    const std::string num = n.substr(b + 1, n.size() - 3 - b - 1 - suffix.size());
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    found.emplace_back(std::stoll(num), e.path());
  }
  std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  for (size_t i = static_cast<size_t>(keep); i < found.size(); ++i) fs::remove(found[i].second);
}

}  // namespace w2v::train
