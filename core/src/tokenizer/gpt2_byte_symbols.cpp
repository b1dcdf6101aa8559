#include "tokenizer/gpt2_byte_symbols.h"

#include <array>
#include <cstdio>
#include <stdexcept>

#include "tokenizer/utf8.h"

namespace trellis {

namespace {

bool printable(int byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

// byte -> symbol, as bytes_to_unicode builds it: the printable bytes keep their value, the
// others take 256, 257, ... in byte order.
constexpr std::size_t kSymbolLimit = 256 + 68;  // every symbol is below this
struct SymbolTables {
  std::array<char32_t, 256> symbol{};
  std::array<std::int16_t, kSymbolLimit> byte{};  // -1: not a symbol
};

const SymbolTables& tables() {
  static const SymbolTables t = [] {
    SymbolTables out;
    out.byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const char32_t s = printable(b) ? static_cast<char32_t>(b) : next++;
      out.symbol[static_cast<std::size_t>(b)] = s;
      out.byte[s] = static_cast<std::int16_t>(b);
    }
    return out;
  }();
  return t;
}

std::string code_point_text(char32_t c) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(c));
  std::string text = buffer;
  if (c >= 0x20 && c != 0x7F) {
    text += " ('";
    append_utf8(text, c);
    text += "')";
  }
  return text;
}

}  // namespace

char32_t gpt2_byte_symbol(std::uint8_t byte) {
  return tables().symbol[byte];
}

std::string gpt2_symbols_to_bytes(std::string_view symbols) {
  const SymbolTables& t = tables();
  std::string bytes;
  for (std::size_t at = 0; at < symbols.size();) {
    const Utf8Char c = utf8_char_at(symbols, at);
    if (!c.valid) {
      throw std::invalid_argument("byte " + std::to_string(at) + " is not valid UTF-8");
    }
    if (c.code_point >= kSymbolLimit || t.byte[c.code_point] < 0) {
      throw std::invalid_argument(code_point_text(c.code_point) +
                                  " is not one of GPT-2's 256 byte symbols");
    }
    bytes += static_cast<char>(t.byte[c.code_point]);
    at += c.bytes;
  }
  return bytes;
}

}  // namespace trellis
