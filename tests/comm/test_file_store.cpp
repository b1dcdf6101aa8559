// The file store: values, counters shared by processes, and waits that end with the missing keys
// named.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "comm/file_store.h"
#include "trellis/error.h"

using namespace trellis;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("trellis-file-store-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("set then get returns the value, any bytes, any key") {
  fs::path dir = fresh_dir("values");
  FileStore store(dir);
  std::string binary("a\0b\xff", 4);
  store.set("ucx/addr/3", binary);
  CHECK(store.get("ucx/addr/3", 100ms) == binary);
  store.set("ucx/addr/3", "replaced");
  CHECK(store.get("ucx/addr/3", 100ms) == "replaced");
  store.set("", "empty key");
  CHECK(store.get("", 100ms) == "empty key");
  fs::remove_all(dir);
}

TEST_CASE("a key that never appears times out, naming the key") {
  fs::path dir = fresh_dir("timeout");
  FileStore store(dir);
  store.set("here", "1");
  CHECK_THROWS_WITH_AS(store.wait({"here", "never"}, 50ms), doctest::Contains("'never'"),
                       TimeoutError);
  CHECK_THROWS_WITH_AS(store.get("missing/key", 30ms),
                       doctest::Contains("'missing/key', never set"), TimeoutError);
  fs::remove_all(dir);
}

TEST_CASE("add is atomic across processes") {
  fs::path dir = fresh_dir("add");
  FileStore store(dir);
  const int children = 4, adds = 50;
  for (int c = 0; c < children; ++c) {
    if (fork() == 0) {
      FileStore mine(dir);
      for (int i = 0; i < adds; ++i) mine.add("counter", 1);
      _exit(0);
    }
  }
  for (int c = 0; c < children; ++c) {
    int status = 0;
    wait(&status);
    CHECK(WIFEXITED(status));
  }
  CHECK(store.add("counter", 0) == children * adds);
  CHECK(store.add("other", -3) == -3);
  fs::remove_all(dir);
}

TEST_CASE("add refuses a key that holds text and a sum past 64 bits, naming the key") {
  fs::path dir = fresh_dir("add-refused");
  FileStore store(dir);
  store.set("text", "not a number");
  CHECK_THROWS_WITH_AS(store.add("text", 1), doctest::Contains("'text' holds a value that is not"),
                       CommError);
  CHECK(store.add("counter", INT64_MAX) == INT64_MAX);
  CHECK_THROWS_WITH_AS(store.add("counter", 1), doctest::Contains("goes past a 64-bit integer"),
                       CommError);
  CHECK(store.add("counter", -1) == INT64_MAX - 1);  // unchanged by the refused add, still usable
}

TEST_CASE("a value set by another process is seen by a waiting get") {
  fs::path dir = fresh_dir("cross");
  FileStore store(dir);
  if (fork() == 0) {
    FileStore writer(dir);
    usleep(30000);
    writer.set("late", "arrived");
    _exit(0);
  }
  CHECK(store.get("late", 5000ms) == "arrived");
  int status = 0;
  wait(&status);
  fs::remove_all(dir);
}
