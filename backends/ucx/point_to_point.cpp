// send/recv: one tagged message, the user's tag in the tag (tag_layout.h, class 0).
#include "algorithms.h"
#include "operation.h"

namespace trellis::ucx {

OpTask send_message(Operation& op, const std::byte* data, std::size_t bytes, int peer, int tag) {
  co_await op.all(op.send(peer, data, bytes, static_cast<std::uint64_t>(tag)));
}

OpTask recv_message(Operation& op, std::byte* data, std::size_t bytes, int peer, int tag) {
  co_await op.all(op.recv(peer, data, bytes, static_cast<std::uint64_t>(tag)));
}

}  // namespace trellis::ucx
