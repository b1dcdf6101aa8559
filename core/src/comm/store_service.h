// What the TCP store's server does with the bytes its clients send, without the sockets: the
// key-value map, each connection's buffered requests and pending wait, and the replies to send
// (store_protocol.h has the frames). TcpStoreServer moves bytes between the sockets and this;
// the fuzzing harness of the wire protocol drives it directly.
//
// A connection has one request outstanding at a time: while its get() or wait() is pending,
// later bytes stay buffered. A frame that is not this protocol closes the connection (there is
// no frame boundary to resume at).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "comm/store_protocol.h"

namespace trellis {

// A get() or wait() answered later: when its keys are set, or at its deadline.
struct PendingStoreWait {
  store_protocol::Op op = store_protocol::Op::wait;
  std::vector<std::string> keys;
  std::chrono::steady_clock::time_point deadline;
};

struct StoreConnection {
  std::string in;   // bytes received, not yet a whole frame
  std::string out;  // replies not yet sent
  std::optional<PendingStoreWait> pending;
  bool closed = false;  // the peer left, or broke the protocol: drop the connection
};

class StoreService {
 public:
  using Clock = std::chrono::steady_clock;

  // Handles the whole requests buffered in `connection.in`, in order, until one must wait;
  // replies go to `connection.out`. A set or add also answers the pending waits of `all` (every
  // open connection, `connection` among them) that it completes.
  void handle_requests(StoreConnection& connection, const std::vector<StoreConnection*>& all);

  // Answers with `timeout` every pending wait of `all` whose deadline is at or before `now`.
  void answer_expired_waits(const std::vector<StoreConnection*>& all, Clock::time_point now);

  // True when `connection` holds a whole request it can handle now (none is pending).
  static bool request_ready(const StoreConnection& connection);

  std::size_t keys() const noexcept { return values_.size(); }

 private:
  void handle(StoreConnection& connection, std::string_view body,
              const std::vector<StoreConnection*>& all);
  void answer(StoreConnection& connection, const PendingStoreWait& wait) const;
  void answer_satisfied_waits(const std::vector<StoreConnection*>& all);
  std::vector<std::string> missing(const std::vector<std::string>& keys) const;

  std::unordered_map<std::string, std::string> values_;
};

}  // namespace trellis
