#include "backend_options.h"

#include <charconv>

#include "trellis/error.h"

namespace trellis::bench {

namespace {

OptionValue parse_value(const std::string& text, const OptionSpec& spec, const std::string& value) {
  auto wrong = [&](const char* what) {
    return InputError("--option " + text + ": " + spec.key + " takes " + what);
  };
  switch (spec.type) {
    case OptionType::boolean:
      if (value == "true") return true;
      if (value == "false") return false;
      throw wrong("true or false");
    case OptionType::integer: {
      std::int64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        throw wrong("an integer");
      }
      return number;
    }
    case OptionType::number: {
      std::size_t used = 0;
      try {
        const double number = std::stod(value, &used);
        if (used == value.size()) return number;
      } catch (const std::exception&) {
      }
      throw wrong("a number");
    }
    case OptionType::string:
    case OptionType::path:
      return value;
  }
  throw wrong("a value of a type this bench does not know");
}

}  // namespace

Options backend_options(const PluginRegistry& registry, const std::string& backend,
                        const std::vector<std::string>& texts) {
  Options options;
  const std::vector<OptionSpec> specs = registry.options(PluginKind::comm, backend);
  for (const std::string& text : texts) {
    const std::size_t dot = text.find('.'), eq = text.find('=');
    if (text.substr(0, dot) != backend) continue;
    const std::string key = text.substr(dot + 1, eq - dot - 1), value = text.substr(eq + 1);
    const OptionSpec* spec = nullptr;
    std::string valid;
    for (const OptionSpec& s : specs) {
      if (key == s.key) spec = &s;
      valid += (valid.empty() ? "" : ", ") + std::string(s.key);
    }
    if (spec == nullptr) {
      throw InputError("--option " + text + ": backend " + backend + " has no option '" + key +
                       "'; valid: " + (valid.empty() ? "none" : valid));
    }
    options.set(key, parse_value(text, *spec, value));
  }
  return options;
}

}  // namespace trellis::bench
