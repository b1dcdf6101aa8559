// TcpStoreServer: the key-value store that ranks rendezvous through, served over TCP.
//
// trellis-run hosts one (on node 0) for the ranks it starts; under mpirun or srun with
// TRELLIS_STORE=tcp:HOST:PORT, rank 0 hosts it (launch/world.h). It runs on a thread of its own:
// one poll() loop over the listening socket and every client connection, so any number of ranks can
// connect and each can have a get() or wait() pending while others set keys. Waits are answered by
// the server when their keys appear or their timeout passes (store_protocol.h).
//
// Stopping (stop() or the destructor) closes every connection: a client blocked in get() or wait()
// fails at once with CommError instead of waiting out its timeout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace trellis {

class TcpStoreServer {
 public:
  // Listens on 0.0.0.0:`port` (0: an ephemeral port the kernel picks; see port()) and starts
  // serving. Throws CommError when the port cannot be bound, naming it.
  explicit TcpStoreServer(std::uint16_t port = 0);
  ~TcpStoreServer();
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;

  // The port listened on (the one picked when 0 was asked for).
  std::uint16_t port() const noexcept;
  // Closes every connection and the listening socket and joins the thread. Idempotent.
  void stop();
  // The number of client connections open now (for tests and diagnostics).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis
