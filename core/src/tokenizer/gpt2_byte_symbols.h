// GPT-2's files spell tokens in "byte symbols" (OpenAI's bytes_to_unicode): each of the 256 byte
// values is one printable character — itself for the printable bytes of Latin-1 ('!'..'~',
// '¡'..'¬', '®'..'ÿ'), U+0100 onwards, in byte order, for the others (space is 'Ġ', U+0120;
// newline 'Ċ'). vocab.json and merges.txt are therefore plain text; the tokenizer itself works
// on the bytes, so these are needed only to read the files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trellis {

// The character that stands for `byte`.
char32_t gpt2_byte_symbol(std::uint8_t byte);

// The bytes a string of byte symbols stands for. Throws std::invalid_argument saying which
// character is not a byte symbol ("U+0020 (' ') is not one of GPT-2's 256 byte symbols"), or
// that the text is not UTF-8.
std::string gpt2_symbols_to_bytes(std::string_view symbols);

}  // namespace trellis
