#include "checkpoint/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trellis/error.h"

namespace trellis {

namespace {

[[noreturn]] void fail(const char* what, const std::filesystem::path& path) {
  throw Error(std::string("checkpoint: cannot ") + what + " " + path.string() + ": " +
              std::strerror(errno));
}

}  // namespace

DurableFile::DurableFile(std::filesystem::path path) : path_(std::move(path)) {
  fd_.reset(::open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd_.valid()) fail("create", path_);
}

std::size_t DurableFile::write(const void* data, std::size_t bytes) {
  const std::size_t at = size_;
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_.get(), p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write", path_);
    p += n;
    bytes -= static_cast<std::size_t>(n);
    size_ += static_cast<std::size_t>(n);
  }
  return at;
}

void DurableFile::sync_and_close() {
  if (::fsync(fd_.get()) != 0) fail("sync", path_);
  if (::close(fd_.release()) != 0) fail("close", path_);
}

void write_durable_file(const std::filesystem::path& path, std::string_view text) {
  DurableFile file(path);
  file.write(text.data(), text.size());
  file.sync_and_close();
}

void sync_directory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) fail("open the directory", dir);
  if (::fsync(fd.get()) != 0) fail("sync the directory", dir);
}

}  // namespace trellis
