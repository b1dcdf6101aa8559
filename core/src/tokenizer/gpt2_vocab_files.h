// GPT-2's tokenizer files as Hugging Face and OpenAI publish them: vocab.json (OpenAI's
// encoder.json), an object of token -> id with tokens spelled in byte symbols
// (gpt2_byte_symbols.h), and merges.txt (vocab.bpe), an optional "#version" line and then one
// merge "LEFT RIGHT" a line, in rank order (the first line merges first).
//
// Both are read strictly, since a wrong file would not fail but train on a different
// tokenization: every problem is an InputError naming the file, the token or line, what is
// wrong and what would be valid.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trellis {

struct Gpt2Vocabulary {
  // Transparent hashing, so a std::string_view finds a token without a copy.
  struct Hash : std::hash<std::string_view> {
    using is_transparent = void;
  };

  std::vector<std::string> tokens;  // id -> the token's bytes; ids are 0..tokens.size()-1
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> ids;  // bytes -> id

  // The id of the token whose bytes are `bytes`, or -1.
  std::int32_t find(std::string_view bytes) const;
};

// One merge: tokens `left` and `right` side by side become `merged`, their concatenation.
struct BpeMerge {
  std::int32_t left = 0;
  std::int32_t right = 0;
  std::int32_t merged = 0;
};

// A pair of token ids as one key, for the maps of merges.
inline std::uint64_t bpe_pair_key(std::int32_t left, std::int32_t right) {
  return (std::uint64_t{static_cast<std::uint32_t>(left)} << 32) |
         static_cast<std::uint32_t>(right);
}

// vocab.json: ids unique and 0..n-1, every token a string of byte symbols, and all 256 one-byte
// tokens present (so that any text encodes).
Gpt2Vocabulary read_gpt2_vocab(const std::filesystem::path& file);

// merges.txt, in rank order: each side a token of `vocab`, their concatenation too, no merge
// twice.
std::vector<BpeMerge> read_gpt2_merges(const std::filesystem::path& file,
                                       const Gpt2Vocabulary& vocab);

}  // namespace trellis
