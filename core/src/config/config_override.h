// --set overrides: `--set section.key=value`, or `--set comm.<backend>.<option>=value` for a
// backend's table. The value is read as a TOML value (4, 2.5e-4, true, "text", [..]); text that
// is not one is taken as a string, so `--set parallel.tensor_mode=1d` needs no quotes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace trellis {

struct ConfigOverride {
  std::string argument;           // "parallel.tensor=3", as given
  std::vector<std::string> path;  // {"parallel", "tensor"}
  std::string value_text;         // "3", as given
  std::shared_ptr<const toml::node> value;

  std::string dotted_key() const;
};

// Empty when `argument` has the form section.key=value; else what is wrong and the valid form.
std::string override_syntax_problem(std::string_view argument);

// Throws InputError naming the argument, what is wrong and the valid form when it is not
// section.key=value.
ConfigOverride parse_override(std::string_view argument);

}  // namespace trellis
