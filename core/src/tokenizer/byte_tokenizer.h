// The byte-level tokenizer, Trellis's default: each byte is its own token, ids 0..255. It needs
// no files and no training, and any model with vocab_size >= 256 reads any text with it.
#pragma once

#include "tokenizer/tokenizer.h"

namespace trellis {

class ByteTokenizer final : public Tokenizer {
 public:
  static constexpr std::int32_t kVocabSize = 256;

  std::vector<std::int32_t> encode(std::string_view text) const override;
  std::string_view token_bytes(std::int32_t id) const override;
  std::int32_t vocab_size() const override { return kVocabSize; }
  std::optional<std::int32_t> end_of_text() const override { return std::nullopt; }
  std::string describe() const override { return "bytes"; }
};

}  // namespace trellis
