#include "tokenizer/byte_tokenizer.h"

#include <array>

namespace trellis {

namespace {

// Every byte value once, so token_bytes can return a view of one that lives forever.
constexpr std::array<char, 256> kAllBytes = [] {
  std::array<char, 256> bytes{};
  for (int b = 0; b < 256; ++b) bytes[static_cast<std::size_t>(b)] = static_cast<char>(b);
  return bytes;
}();

}  // namespace

std::vector<std::int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size());
  for (char c : text) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

std::string_view ByteTokenizer::token_bytes(std::int32_t id) const {
  if (id < 0 || id >= kVocabSize) throw_unknown_id(id);
  return {kAllBytes.data() + id, 1};
}

}  // namespace trellis
