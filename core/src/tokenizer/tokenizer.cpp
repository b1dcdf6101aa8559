#include "tokenizer/tokenizer.h"

#include "trellis/error.h"

namespace trellis {

Tokenizer::~Tokenizer() = default;

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
  std::string out;
  for (std::int32_t id : ids) out += token_bytes(id);
  return out;
}

void Tokenizer::throw_unknown_id(std::int32_t id) const {
  throw InputError("token id " + std::to_string(id) + " is outside the vocabulary of " +
                   describe() + " (ids 0.." + std::to_string(vocab_size() - 1) + ")");
}

}  // namespace trellis
