// EndpointMap: one UCP endpoint per world rank, and what became of it.
//
// Endpoints are made once, for the world, and shared by every communicator split from it
// (a sub-communicator maps its ranks to world ranks). They use peer error handling: when UCX
// finds a peer gone (keepalive, a transport error), it calls our error callback, which records
// the failure here; operations waiting on that peer then fail at once, naming it, instead of
// running into their timeout. Receives cannot see a dead peer by themselves (UCX tag receives
// are not tied to an endpoint), which is why operations ask failure() about the peers they wait
// on.
#pragma once

#include <ucp/api/ucp.h>

#include <memory>
#include <string>
#include <vector>

namespace trellis::ucx {

class EndpointMap {
 public:
  // Connects `worker` to every address (indexed by world rank; our own included, for messages
  // to self). Throws CommError when UCX cannot make an endpoint.
  EndpointMap(ucp_worker_h worker, int my_rank, const std::vector<std::string>& addresses);
  // Closes every endpoint, unless close() already has.
  ~EndpointMap();
  EndpointMap(const EndpointMap&) = delete;
  EndpointMap& operator=(const EndpointMap&) = delete;

  int size() const noexcept { return static_cast<int>(peers_.size()); }
  ucp_ep_h endpoint(int world_rank) const {
    return peers_[static_cast<std::size_t>(world_rank)]->ep;
  }
  // Why the peer at `world_rank` is taken for dead ("UCX: Endpoint timeout", "its process 42 has
  // exited"), or empty while it is healthy.
  const std::string& failure(int world_rank) const {
    return peers_[static_cast<std::size_t>(world_rank)]->failure;
  }
  bool any_failure() const noexcept { return any_failure_; }
  // Records that the peer at `world_rank` is gone, found by other means than UCX (LocalPeers).
  void mark_failed(int world_rank, const std::string& reason);

  // Closes every endpoint, for a bounded time. `force`: drop them, cancelling whatever is still
  // queued on them (for a world torn down with operations abandoned or peers dead, where a
  // flush could never finish); otherwise flush first, so what was sent last reaches the peer.
  // Failed endpoints are always dropped.
  void close(bool force) noexcept;

 private:
  struct Peer {
    EndpointMap* map = nullptr;
    int world_rank = 0;
    ucp_ep_h ep = nullptr;
    std::string failure;
  };
  static void on_error(void* arg, ucp_ep_h ep, ucs_status_t status);

  ucp_worker_h worker_;
  // Pointers, so each Peer (the error callback's argument) never moves.
  std::vector<std::unique_ptr<Peer>> peers_;
  bool any_failure_ = false;
  bool closed_ = false;
};

}  // namespace trellis::ucx
