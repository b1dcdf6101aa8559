// Files that are on the disk when we say so: written whole (short writes resumed), fsynced, and
// their directory entries fsynced, so that a checkpoint that looks complete after a power loss
// or a crash is complete. Errors name the file and the system's reason (ENOSPC: "No space left
// on device").
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "os/unique_fd.h"

namespace trellis {

class DurableFile {
 public:
  // Creates `path`, which must not exist yet. Throws Error naming it.
  explicit DurableFile(std::filesystem::path path);

  // Appends `bytes` bytes; returns the offset they start at.
  std::size_t write(const void* data, std::size_t bytes);
  std::size_t size() const noexcept { return size_; }
  // fsync, then close. Throws Error naming the file.
  void sync_and_close();

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  std::size_t size_ = 0;
};

// Writes `text` to a new file `path`, synced.
void write_durable_file(const std::filesystem::path& path, std::string_view text);

// fsync of a directory: makes the creation, removal and renaming of its entries durable.
void sync_directory(const std::filesystem::path& dir);

}  // namespace trellis
