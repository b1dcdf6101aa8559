#include "size_text.h"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace trellis::bench {

std::optional<std::int64_t> parse_size(std::string_view text) {
  std::int64_t number = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || rest == text.data() || number < 0) return std::nullopt;
  int shift = 0;
  if (rest != end) {
    switch (std::toupper(static_cast<unsigned char>(*rest))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        return std::nullopt;
    }
    if (++rest != end) return std::nullopt;
  }
  if (number > (std::int64_t{1} << (62 - shift))) return std::nullopt;
  return number << shift;
}

std::string format_size(std::int64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (value == static_cast<double>(static_cast<std::int64_t>(value))) {
    std::snprintf(text, sizeof text, "%lld %s", static_cast<long long>(value), kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

}  // namespace trellis::bench
