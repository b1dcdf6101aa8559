// The TCP store: values and counters, from threads and processes; waits that end naming their
// keys; a server that goes away while clients wait; a server that is not there at all.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "comm/file_store.h"
#include "comm/store_spec.h"
#include "comm/tcp_store.h"
#include "comm/tcp_store_server.h"
#include "trellis/error.h"

using namespace trellis;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TcpStore client_of(const TcpStoreServer& server, std::chrono::milliseconds timeout = 5s) {
  return TcpStore("127.0.0.1", server.port(), timeout);
}

// A loopback port with no listener: bound once to get it from the kernel, then released.
std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("set then get returns the value: any bytes, any key, replaced by a later set") {
  TcpStoreServer server;
  CHECK(server.port() != 0);
  TcpStore store = client_of(server);
  CHECK(store.address() == "tcp:127.0.0.1:" + std::to_string(server.port()));
  const std::string binary("a\0b\xff", 4);
  store.set("ucx/addr/3", binary);
  CHECK(store.get("ucx/addr/3", 100ms) == binary);
  store.set("ucx/addr/3", "replaced");
  CHECK(store.get("ucx/addr/3", 100ms) == "replaced");
  store.set("", "empty key");
  CHECK(store.get("", 100ms) == "empty key");
  const std::string big(1 << 20, 'x');
  store.set("big", big);
  CHECK(store.get("big", 1s) == big);
  // Another client sees the same values.
  TcpStore other = client_of(server);
  CHECK(other.get("ucx/addr/3", 100ms) == "replaced");
  CHECK(other.check({"big", ""}));
  CHECK_FALSE(other.check({"big", "absent"}));
}

TEST_CASE("add counts from zero, returns the new value, and reads back as text") {
  TcpStoreServer server;
  TcpStore store = client_of(server);
  CHECK(store.add("counter", 1) == 1);
  CHECK(store.add("counter", 41) == 42);
  CHECK(store.add("counter", -50) == -8);
  CHECK(store.get("counter", 100ms) == "-8");
  store.set("text", "not a number");
  CHECK_THROWS_WITH_AS(store.add("text", 1), doctest::Contains("'text' holds a value that is not"),
                       CommError);
  // The connection is still good after a refused add.
  CHECK(store.add("counter", 8) == 0);
}

TEST_CASE("add is atomic across processes") {
  TcpStoreServer server;
  const int children = 4, adds = 100;
  std::vector<pid_t> pids;
  for (int c = 0; c < children; ++c) {
    const pid_t pid = fork();
    if (pid == 0) {
      try {
        TcpStore mine("127.0.0.1", server.port(), 5s);
        for (int i = 0; i < adds; ++i) mine.add("counter", 1);
        mine.set("child/" + std::to_string(c), "done");
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  TcpStore store = client_of(server);
  store.wait({"child/0", "child/1", "child/2", "child/3"}, 10s);
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  CHECK(store.add("counter", 0) == children * adds);
}

TEST_CASE("a waiting get returns as soon as another client sets the key") {
  TcpStoreServer server;
  TcpStore waiter = client_of(server);
  const auto start = Clock::now();
  auto value = std::async(std::launch::async, [&] { return waiter.get("late", 5s); });
  std::this_thread::sleep_for(50ms);
  TcpStore writer = client_of(server);
  writer.set("late", "arrived");
  CHECK(value.get() == "arrived");
  CHECK(seconds_since(start) < 2.0);
  // wait() on several keys returns once the last one is set.
  auto all = std::async(std::launch::async, [&] { waiter.wait({"a", "b"}, 5s); });
  writer.set("a", "1");
  writer.add("b", 1);
  all.get();
}

TEST_CASE("a key that never appears times out, naming the store, the operation and the key") {
  TcpStoreServer server;
  TcpStore store = client_of(server);
  const std::string address = "tcp:127.0.0.1:" + std::to_string(server.port());
  store.set("here", "1");
  const auto start = Clock::now();
  try {
    store.wait({"here", "never"}, 100ms);
    FAIL("wait returned");
  } catch (const TimeoutError& e) {
    const std::string message = e.what();
    CHECK(message.find(address) != std::string::npos);
    CHECK(message.find("wait 'here', 'never'") != std::string::npos);
    CHECK(message.find("waited 100 ms for 'never', never set") != std::string::npos);
  }
  CHECK(seconds_since(start) < 1.0);
  CHECK_THROWS_WITH_AS(store.get("missing/key", 50ms),
                       doctest::Contains("get 'missing/key': waited 50 ms for 'missing/key'"),
                       TimeoutError);
  // The connection serves the next call as usual.
  CHECK(store.get("here", 50ms) == "1");
}

TEST_CASE("clients waiting when the server stops fail at once with CommError") {
  auto server = std::make_unique<TcpStoreServer>();
  // Short connect timeouts: the last check reconnects to a server that is gone.
  TcpStore a = client_of(*server, 300ms);
  TcpStore b = client_of(*server, 300ms);
  auto get = std::async(std::launch::async, [&] { a.get("never", 30s); });
  auto wait = std::async(std::launch::async, [&] { b.wait({"never", "either"}, 30s); });
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  server.reset();
  for (auto* call : {&get, &wait}) {
    try {
      call->get();
      FAIL("the call returned");
    } catch (const TimeoutError& e) {
      FAIL("a timeout, not the server going away: " << e.what());
    } catch (const CommError& e) {
      const std::string message = e.what();
      CHECK(message.find("closed the connection") != std::string::npos);
      CHECK(message.find("'never'") != std::string::npos);
    }
  }
  CHECK(seconds_since(start) < 2.0);
  // Later calls fail too, saying the store is not reachable.
  CHECK_THROWS_WITH_AS(a.set("k", "v"), doctest::Contains("not reachable"), CommError);
}

TEST_CASE("an unreachable store fails within the timeout, saying why and what to check") {
  const std::uint16_t port = unused_port();
  const auto start = Clock::now();
  try {
    TcpStore store("127.0.0.1", port, 300ms);
    FAIL("connected to a port nobody listens on");
  } catch (const TimeoutError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("store tcp:127.0.0.1:" + std::to_string(port) + " not reachable after") !=
          std::string::npos);
    CHECK(message.find("Connection refused") != std::string::npos);
    CHECK(message.find("is trellis-run running") != std::string::npos);
  }
  const double elapsed = seconds_since(start);
  CHECK(elapsed >= 0.25);
  CHECK(elapsed < 1.5);
  CHECK_THROWS_WITH_AS(TcpStore("no-such-host.invalid", 1234, 100ms),
                       doctest::Contains("cannot resolve no-such-host.invalid"), TimeoutError);
}

TEST_CASE("a client started before its server connects once the server is up") {
  const std::uint16_t port = unused_port();
  auto client = std::async(std::launch::async, [&] {
    TcpStore store("127.0.0.1", port, 5s);
    return store.get("ready", 5s);
  });
  std::this_thread::sleep_for(200ms);
  TcpStoreServer server(port);
  CHECK(server.port() == port);
  TcpStore setter = client_of(server);
  setter.set("ready", "yes");
  CHECK(client.get() == "yes");
}

TEST_CASE("a port in use is refused, naming it") {
  TcpStoreServer first;
  const std::string expected = "cannot bind 0.0.0.0:" + std::to_string(first.port());
  CHECK_THROWS_WITH_AS(TcpStoreServer(first.port()), doctest::Contains(expected.c_str()),
                       CommError);
}

TEST_CASE("a connection that does not speak the protocol is dropped; others carry on") {
  TcpStoreServer server;
  TcpStore store = client_of(server);
  store.set("k", "v");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(server.port());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(::write(fd, junk, sizeof junk) > 0);
  char buffer[16];
  CHECK(::read(fd, buffer, sizeof buffer) == 0);  // closed by the server
  ::close(fd);
  CHECK(store.get("k", 100ms) == "v");
}

TEST_CASE("store specs: tcp and file, and a clear error for anything else") {
  const StoreSpec tcp = parse_store_spec("tcp:node001:29500");
  CHECK(tcp.kind == StoreSpec::Kind::tcp);
  CHECK(tcp.host == "node001");
  CHECK(tcp.port == 29500);
  CHECK(tcp.str() == "tcp:node001:29500");
  const StoreSpec v6 = parse_store_spec("tcp:[::1]:80");
  CHECK(v6.host == "::1");
  CHECK(v6.str() == "tcp:[::1]:80");
  CHECK(parse_store_spec("file:/shared/run").dir == "/shared/run");
  for (const char* bad : {"", "tcp:", "tcp:host", "tcp::29500", "tcp:host:0", "tcp:host:70000",
                          "tcp:host:12ab", "file:", "redis:host:1", "host:29500"}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS(parse_store_spec(bad),
                         doctest::Contains("valid forms: tcp:HOST:PORT (the TCP store"),
                         InputError);
  }
}

TEST_CASE("connect_store opens the store a spec names") {
  TcpStoreServer server;
  auto tcp = connect_store("tcp:127.0.0.1:" + std::to_string(server.port()), 1s);
  tcp->set("via", "spec");
  CHECK(client_of(server).get("via", 100ms) == "spec");

  const auto dir =
      std::filesystem::temp_directory_path() / ("trellis-store-spec-" + std::to_string(::getpid()));
  auto file = connect_store("file:" + dir.string(), 1s);
  CHECK(dynamic_cast<FileStore*>(file.get()) != nullptr);
  file->set("k", "v");
  CHECK(FileStore(dir).get("k", 100ms) == "v");
  std::filesystem::remove_all(dir);

  CHECK_THROWS_AS(connect_store("tcp:127.0.0.1:" + std::to_string(unused_port()), 100ms),
                  TimeoutError);
}
