// A Store kept in a directory that every rank can see (a shared filesystem, or /tmp on one
// machine): one file per key, written to a temporary name and renamed into place, so a reader
// sees a whole value or none. add() serialises on a lock file with flock(). Waits poll with
// exponential backoff (1 ms to 50 ms) until their deadline.
#pragma once

#include <filesystem>
#include <string>

#include "trellis/store.h"

namespace trellis {

class FileStore final : public Store {
 public:
  // Creates `dir` if needed. Throws InputError when it cannot be created or written.
  explicit FileStore(std::filesystem::path dir);

  void set(const std::string& key, const std::string& value) override;
  std::string get(const std::string& key, std::chrono::milliseconds timeout) override;
  std::int64_t add(const std::string& key, std::int64_t delta) override;
  void wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) override;

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  std::filesystem::path path_of(const std::string& key) const;
  bool try_read(const std::string& key, std::string& value) const;

  std::filesystem::path dir_;
};

}  // namespace trellis
