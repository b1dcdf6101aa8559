// GPT-2's pre-tokenization: text cut into the pieces BPE merges within, by OpenAI's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out by hand over UTF-8 (std::regex has no \p{L}): at each position the first
// alternative that matches wins, as in a backtracking regex engine. A byte that is not valid
// UTF-8 is one character of its own, neither letter, number nor whitespace, so it joins a run
// of punctuation; the pieces always cover the text exactly, byte for byte.
#pragma once

#include <cstddef>
#include <string_view>

namespace trellis {

class Gpt2Pretokenizer {
 public:
  explicit Gpt2Pretokenizer(std::string_view text) : text_(text) {}

  // The next piece, or false at the end of the text.
  bool next(std::string_view& piece);

 private:
  std::size_t contraction_length() const;
  std::size_t whitespace_piece_end() const;

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace trellis
