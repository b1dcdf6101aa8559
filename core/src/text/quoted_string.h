// A string in double quotes with `"` and `\` escaped, newline, tab and carriage return as \n, \t,
// \r, and every other control character as \u00XX: the escapes JSON strings and TOML basic
// strings share, so the metrics, traces, manifests, bench JSON and config echoes all write text
// the one way a reader of either format accepts.
#pragma once

#include <string>
#include <string_view>

namespace trellis {

std::string quoted_string(std::string_view text);

}  // namespace trellis
