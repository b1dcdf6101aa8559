// The TCP store's wire format, shared by the server (tcp_store_server.h) and the client
// (tcp_store.h).
//
// Every message is a frame: a 4-byte length, then that many bytes of body. Integers are
// little-endian whatever the host; strings are a 4-byte length and the bytes. A client sends one
// request and reads its reply before sending the next, so frames never interleave.
//
//   request                                        reply
//   set    key, value                              ok
//   get    timeout_ms (i64), key                   ok value | timeout
//   add    key, delta (i64)                        ok new value (i64) | error message
//   wait   timeout_ms (i64), count (u32), keys     ok | timeout, count (u32), missing keys
//   check  count (u32), keys                       ok, all set (u8)
//
// get and wait block on the server until the keys are set or their timeout passes; the server
// answers `timeout` itself, so a client learns which keys were missing.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::store_protocol {

enum class Op : std::uint8_t { set = 1, get = 2, add = 3, wait = 4, check = 5 };
enum class Status : std::uint8_t { ok = 0, timeout = 1, error = 2 };

const char* op_name(Op op) noexcept;

// Frames larger than this are refused: the store carries addresses and ids, not tensors, and a
// bound keeps a stray connection (a port scanner, another protocol) from making the server
// allocate without limit.
constexpr std::uint32_t kMaxFrameBytes = 64u << 20;
constexpr std::size_t kLengthBytes = 4;

// Builds one frame.
class FrameWriter {
 public:
  FrameWriter() : bytes_(kLengthBytes, '\0') {}
  FrameWriter& u8(std::uint8_t value);
  FrameWriter& u32(std::uint32_t value);
  FrameWriter& i64(std::int64_t value);
  FrameWriter& str(std::string_view value);
  FrameWriter& strings(const std::vector<std::string>& values);  // count, then each
  // The frame with its length filled in; the writer is empty afterwards.
  std::string finish();

 private:
  std::string bytes_;
};

// Reads the body of one frame, which must outlive the reader (it is not copied). Every read throws
// ProtocolError when the body is too short.
class FrameReader {
 public:
  explicit FrameReader(std::string_view body) : rest_(body) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::int64_t i64();
  std::string str();
  std::vector<std::string> strings();
  bool at_end() const noexcept { return rest_.empty(); }

 private:
  std::string_view take(std::size_t n);
  std::string_view rest_;
};

// A malformed frame: the peer does not speak this protocol (or a different version of it).
class ProtocolError : public std::exception {
 public:
  explicit ProtocolError(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

// The body length stated by a frame's first kLengthBytes bytes.
std::uint32_t frame_length(std::string_view header);

// 'a', 'b', 'c' — keys as messages name them.
std::string quote_keys(const std::vector<std::string>& keys);

}  // namespace trellis::store_protocol
