#include "comm/file_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "comm/store_counter.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// File names from keys: letters, digits, '-' and '_' as they are, every other byte as %XX.
std::string escape(const std::string& key) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "'" : ", '") + k + "'";
  return out;
}

// A unique temporary name in `dir` for this process and call.
std::filesystem::path temporary_in(const std::filesystem::path& dir) {
  static std::atomic<unsigned long> counter{0};
  return dir / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

}  // namespace

FileStore::FileStore(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) {
    throw InputError("file store " + dir_.string() + ": cannot create the directory" +
                     (ec ? ": " + ec.message() : std::string()));
  }
}

std::filesystem::path FileStore::path_of(const std::string& key) const {
  return dir_ / ("k-" + escape(key));
}

void FileStore::set(const std::string& key, const std::string& value) {
  std::filesystem::path tmp = temporary_in(dir_);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    if (!out) throw CommError("file store " + dir_.string() + ": cannot write key '" + key + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_of(key), ec);
  if (ec) {
    throw CommError("file store " + dir_.string() + ": cannot publish key '" + key +
                    "': " + ec.message());
  }
}

bool FileStore::try_read(const std::string& key, std::string& value) const {
  std::ifstream in(path_of(key), std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  value = buffer.str();
  return true;
}

std::string FileStore::get(const std::string& key, std::chrono::milliseconds timeout) {
  std::string value;
  wait({key}, timeout);
  if (!try_read(key, value)) {
    throw CommError("file store " + dir_.string() + ": key '" + key + "' vanished while read");
  }
  return value;
}

void FileStore::wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    std::vector<std::string> missing;
    for (const auto& key : keys) {
      if (!std::filesystem::exists(path_of(key))) missing.push_back(key);
    }
    if (missing.empty()) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw TimeoutError("file store " + dir_.string() + ": waited " +
                         std::to_string(timeout.count()) + " ms for " + join(missing) +
                         ", never set; is every rank running and using this store?");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::int64_t FileStore::add(const std::string& key, std::int64_t delta) {
  std::filesystem::path lock_path = dir_ / ("lock-" + escape(key));
  int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  if (fd < 0) {
    throw CommError("file store " + dir_.string() + ": cannot open the lock of '" + key +
                    "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    throw CommError("file store " + dir_.string() + ": cannot lock '" + key +
                    "': " + std::strerror(errno));
  }
  std::string text;
  const bool set_before = try_read(key, text) && !text.empty();
  const CounterSum sum = add_to_counter(key, set_before ? &text : nullptr, delta);
  try {
    if (!sum.problem.empty()) {
      throw CommError("file store " + dir_.string() + ": add to '" + key + "': " + sum.problem);
    }
    set(key, std::to_string(sum.value));
  } catch (...) {
    ::flock(fd, LOCK_UN);
    ::close(fd);
    throw;
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return sum.value;
}

}  // namespace trellis
