// libFuzzer harness: the TCP store's wire protocol as the server meets it (comm/store_service.h,
// comm/store_protocol.h): bytes from three connections, in pieces, handled as the server's poll
// loop handles them; every reply the server sends must be a well-formed frame.
// Input: a sequence of chunks, each a byte (bits 0-1: the connection, 3 meaning "let every
// pending wait time out"; bits 2-7: the chunk's length) and that many bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "comm/store_protocol.h"
#include "comm/store_service.h"

namespace sp = trellis::store_protocol;

namespace {

// Every complete frame in `out` is a reply of this protocol: a status, then what it carries.
void check_replies(std::string_view out) {
  while (out.size() >= sp::kLengthBytes) {
    const std::uint32_t length = sp::frame_length(out);
    if (out.size() - sp::kLengthBytes < length) std::abort();  // the server sends whole frames
    sp::FrameReader reply(out.substr(sp::kLengthBytes, length));
    try {
      const std::uint8_t status = reply.u8();
      if (status > static_cast<std::uint8_t>(sp::Status::error)) std::abort();
    } catch (const sp::ProtocolError&) {
      std::abort();
    }
    out.remove_prefix(sp::kLengthBytes + length);
  }
  if (!out.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  trellis::StoreService service;
  std::vector<trellis::StoreConnection> connections(3);
  std::vector<trellis::StoreConnection*> open;
  for (trellis::StoreConnection& c : connections) open.push_back(&c);
  std::size_t at = 0;
  while (at < size) {
    const std::uint8_t control = data[at++];
    const std::size_t connection = control & 3;
    const std::size_t length = std::min<std::size_t>(control >> 2, size - at);
    if (connection == 3) {
      service.answer_expired_waits(
          open, trellis::StoreService::Clock::now() + std::chrono::hours(24 * 400));
    } else if (!connections[connection].closed) {
      connections[connection].in.append(reinterpret_cast<const char*>(data + at), length);
      for (trellis::StoreConnection* c : open) service.handle_requests(*c, open);
    }
    at += length;
  }
  for (const trellis::StoreConnection& c : connections) check_replies(c.out);
  return 0;
}
