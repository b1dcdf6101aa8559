// A TOML basic string: in double quotes with `"` and `\` escaped, newline, tab and carriage
// return as \n, \t, \r, and every other control character as \u00XX. The config echoes write
// values with it (--dry-run, the messages of config problems); JSON is written by nlohmann-json
// (json/).
#pragma once

#include <string>
#include <string_view>

namespace trellis {

std::string quoted_string(std::string_view text);

}  // namespace trellis
