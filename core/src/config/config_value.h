// Config values as the user wrote them: TOML text for messages and for --dry-run.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "trellis/config.h"

namespace trellis {

// The shortest text that reads back as the same double, always with a '.' or exponent so it
// reads as a float: 300.0, 0.0003, 1e-08.
std::string toml_float_text(double value);
// Any TOML value as TOML writes it; arrays and tables inline.
std::string toml_text(const toml::node& node);
// "an integer", "a string", "a float", "a boolean", "an array", "a table", "a date", ...
std::string toml_type_phrase(const toml::node& node);

std::string option_value_text(const OptionValue& value);

}  // namespace trellis
