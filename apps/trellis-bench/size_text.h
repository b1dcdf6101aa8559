// Byte sizes as nccl-tests writes them on its command line: a whole number with an optional
// K, M or G suffix (binary: K = 1024), case-insensitive, e.g. "8", "1K", "64M".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::bench {

// The size `text` names, or nullopt when it is not one (negative, fractional, unknown suffix,
// beyond 2^62 bytes).
std::optional<std::int64_t> parse_size(std::string_view text);

// "8 B", "1 KiB", "64 MiB", "3.5 MiB": for headers and messages.
std::string format_size(std::int64_t bytes);

}  // namespace trellis::bench
