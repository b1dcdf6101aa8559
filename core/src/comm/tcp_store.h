// TcpStore: a Store reached over TCP, served by a TcpStoreServer (tcp_store_server.h) that
// trellis-run hosts on node 0 (or rank 0 under mpirun/srun).
//
// The constructor connects, retrying until its timeout: ranks usually start before or while the
// server comes up. get() and wait() block on the server, which answers when the keys are set or
// when the timeout passes, naming the keys still missing; the client also gives up on its own
// shortly after the timeout if no answer comes, so a hung server cannot hang a rank. When the
// server goes away, calls fail with CommError at once.
//
// Every message names the store (tcp:HOST:PORT), the operation and its key(s). Thread-safe: calls
// from several threads take turns on the one connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "os/unique_fd.h"
#include "trellis/store.h"

namespace trellis {

class TcpStore final : public Store {
 public:
  // Connects to host:port, retrying until `timeout` has passed; throws TimeoutError saying the
  // store was not reachable and why (e.g. connection refused). `timeout` also bounds set(), add()
  // and check(), which take none of their own.
  TcpStore(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);

  void set(const std::string& key, const std::string& value) override;
  std::string get(const std::string& key, std::chrono::milliseconds timeout) override;
  std::int64_t add(const std::string& key, std::int64_t delta) override;
  void wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout) override;
  // True when every key is set now; never waits for them.
  bool check(const std::vector<std::string>& keys);

  // "tcp:HOST:PORT", as messages and TRELLIS_STORE write it.
  const std::string& address() const noexcept { return address_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Sends one request frame and returns the reply's body; `what` describes the call for messages
  // ("get 'key'"). The reply must come by `deadline`.
  std::string exchange(const std::string& frame, const std::string& what,
                       Clock::time_point deadline);
  void connect(Clock::time_point deadline);
  void send_all(const std::string& bytes, const std::string& what, Clock::time_point deadline);
  std::string receive(std::size_t bytes, const std::string& what, Clock::time_point deadline);

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::string address_;
  std::mutex mutex_;  // one request on the connection at a time
  UniqueFd fd_;       // invalid after a client-side timeout: the next call reconnects
};

}  // namespace trellis
