// Transfer: one tag send or receive handed to UCX, and its outcome.
//
// Transfers are polled, not called back: after the worker has progressed, the operation that
// owns a transfer asks it whether it completed (ucp_request_check_status). No UCX callback ever
// points into our objects, so an operation can be dropped or fail with transfers in flight and
// UCX is never left holding a pointer to freed memory (only the buffers must live on; see
// Operation).
#pragma once

#include <ucp/api/ucp.h>

#include <cstddef>
#include <cstdint>

namespace trellis::ucx {

class Transfer {
 public:
  enum class Kind : std::uint8_t { send, recv };

  // `peer` is the rank in the operation's group, kept for messages.
  Transfer(Kind kind, int peer, std::size_t bytes) : kind_(kind), peer_(peer), bytes_(bytes) {}
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  void post_send(ucp_ep_h ep, const void* data, std::uint64_t tag);
  void post_recv(ucp_worker_h worker, void* data, std::uint64_t tag);

  // Asks UCX whether the transfer completed; true once it has (successfully or not).
  bool poll();
  bool done() const noexcept { return request_ == nullptr; }
  // The outcome once done(): UCS_OK, or why it failed.
  ucs_status_t status() const noexcept { return status_; }
  // Bytes that arrived (receives), valid once done() with UCS_OK.
  std::size_t received_bytes() const noexcept { return info_.length; }

  // Asks UCX to drop a receive that is still posted (it then completes as cancelled).
  void cancel(ucp_worker_h worker);

  Kind kind() const noexcept { return kind_; }
  int peer() const noexcept { return peer_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  void finish_post(ucs_status_ptr_t request);

  Kind kind_;
  int peer_;
  std::size_t bytes_;
  void* request_ = nullptr;  // UCX's request while in flight; null once done
  ucs_status_t status_ = UCS_OK;
  ucp_tag_recv_info_t info_{};
};

}  // namespace trellis::ucx
