#include "comm/store_protocol.h"

namespace trellis::store_protocol {

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::set:
      return "set";
    case Op::get:
      return "get";
    case Op::add:
      return "add";
    case Op::wait:
      return "wait";
    case Op::check:
      return "check";
  }
  return "?";
}

FrameWriter& FrameWriter::u8(std::uint8_t value) {
  bytes_ += static_cast<char>(value);
  return *this;
}

FrameWriter& FrameWriter::u32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>((value >> (8 * i)) & 0xff);
  return *this;
}

FrameWriter& FrameWriter::i64(std::int64_t value) {
  const auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) bytes_ += static_cast<char>((bits >> (8 * i)) & 0xff);
  return *this;
}

FrameWriter& FrameWriter::str(std::string_view value) {
  u32(static_cast<std::uint32_t>(value.size()));
  bytes_.append(value);
  return *this;
}

FrameWriter& FrameWriter::strings(const std::vector<std::string>& values) {
  u32(static_cast<std::uint32_t>(values.size()));
  for (const std::string& v : values) str(v);
  return *this;
}

std::string FrameWriter::finish() {
  const auto body = static_cast<std::uint32_t>(bytes_.size() - kLengthBytes);
  for (std::size_t i = 0; i < kLengthBytes; ++i) {
    bytes_[i] = static_cast<char>((body >> (8 * i)) & 0xff);
  }
  return std::move(bytes_);
}

std::string_view FrameReader::take(std::size_t n) {
  if (rest_.size() < n) {
    throw ProtocolError("a frame ends " + std::to_string(n - rest_.size()) +
                        " bytes early; is this a Trellis store?");
  }
  std::string_view out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return out;
}

std::uint8_t FrameReader::u8() {
  return static_cast<std::uint8_t>(take(1)[0]);
}

std::uint32_t FrameReader::u32() {
  return frame_length(take(4));
}

std::int64_t FrameReader::i64() {
  std::string_view b = take(8);
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= std::uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
  return static_cast<std::int64_t>(bits);
}

std::string FrameReader::str() {
  const std::uint32_t n = u32();
  return std::string(take(n));
}

std::vector<std::string> FrameReader::strings() {
  const std::uint32_t n = u32();
  // Each string takes at least its 4-byte length: a count beyond that is garbage, not a reason to
  // reserve memory.
  if (n > rest_.size() / 4) throw ProtocolError("a frame claims " + std::to_string(n) + " keys");
  std::vector<std::string> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) out.push_back(str());
  return out;
}

std::uint32_t frame_length(std::string_view header) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value |= std::uint32_t{static_cast<unsigned char>(header[i])} << (8 * i);
  }
  return value;
}

std::string quote_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "'" : ", '") + k + "'";
  return out;
}

}  // namespace trellis::store_protocol
