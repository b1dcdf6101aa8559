// What the TCP store's server does with the frames it receives (comm/store_service.h), without
// sockets: replies, pending waits, and requests that are refused or break the protocol. The
// fuzzing harness tests/fuzz/fuzz_store_protocol.cpp drives the same code with arbitrary bytes;
// the cases here are what it found, kept as tests.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "comm/store_protocol.h"
#include "comm/store_service.h"

using namespace trellis;
namespace sp = store_protocol;

namespace {

std::string add_frame(const std::string& key, std::int64_t delta) {
  return sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Op::add)).str(key).i64(delta).finish();
}

// The replies in `out`, each as its reader, emptying `out`.
std::vector<std::string> take_replies(std::string& out) {
  std::vector<std::string> bodies;
  while (out.size() >= sp::kLengthBytes) {
    const std::uint32_t length = sp::frame_length(out);
    REQUIRE(out.size() >= sp::kLengthBytes + length);
    bodies.push_back(out.substr(sp::kLengthBytes, length));
    out.erase(0, sp::kLengthBytes + length);
  }
  CHECK(out.empty());
  return bodies;
}

}  // namespace

TEST_CASE("add past a 64-bit integer is refused with an error reply; the counter is unchanged") {
  // Found by fuzz_store_protocol: two adds of 8753160952272388096 overflowed the server's sum
  // (undefined behaviour: in practice a wrapped, negative counter).
  StoreService service;
  StoreConnection c;
  const std::vector<StoreConnection*> all = {&c};
  c.in = add_frame("n", 8753160952272388096) + add_frame("n", 8753160952272388096) +
         add_frame("n", -1);
  service.handle_requests(c, all);
  const std::vector<std::string> replies = take_replies(c.out);
  REQUIRE(replies.size() == 3);
  sp::FrameReader first(replies[0]);
  CHECK(first.u8() == static_cast<std::uint8_t>(sp::Status::ok));
  CHECK(first.i64() == 8753160952272388096);
  sp::FrameReader refused(replies[1]);
  CHECK(refused.u8() == static_cast<std::uint8_t>(sp::Status::error));
  CHECK(refused.str() ==
        "adding 8753160952272388096 to key 'n' (8753160952272388096) goes past a 64-bit integer");
  sp::FrameReader after(replies[2]);
  CHECK(after.u8() == static_cast<std::uint8_t>(sp::Status::ok));
  CHECK(after.i64() == 8753160952272388095);  // the connection carries on
  CHECK_FALSE(c.closed);
}

TEST_CASE("a frame that is not the protocol closes its connection only") {
  StoreService service;
  StoreConnection bad, good;
  const std::vector<StoreConnection*> all = {&bad, &good};
  bad.in = sp::FrameWriter().u8(static_cast<std::uint8_t>(sp::Op::set)).u32(1000).finish();
  service.handle_requests(bad, all);
  CHECK(bad.closed);
  good.in = add_frame("n", 2);
  service.handle_requests(good, all);
  CHECK_FALSE(good.closed);
  CHECK(take_replies(good.out).size() == 1);
}
