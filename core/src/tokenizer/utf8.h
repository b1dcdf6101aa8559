// Reading UTF-8 one character at a time, strictly: a byte that does not start a well-formed
// sequence (Unicode's table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF) is a
// character of its own, so a tokenizer never stops on bad input and still sees every byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trellis {

struct Utf8Char {
  char32_t code_point = 0;  // meaningful when valid
  std::size_t bytes = 1;    // 1 for an invalid byte
  bool valid = false;
};

// The character starting at text[at] (at < text.size()).
Utf8Char utf8_char_at(std::string_view text, std::size_t at);

// Appends the UTF-8 form of `code_point` (at most U+10FFFF, not a surrogate).
void append_utf8(std::string& out, char32_t code_point);

}  // namespace trellis
