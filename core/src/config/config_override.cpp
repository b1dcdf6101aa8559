#include "config/config_override.h"

#include "trellis/error.h"

namespace trellis {

namespace {

bool is_bare_key(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::shared_ptr<const toml::node> parse_value(const std::string& text) {
  try {
    toml::table parsed = toml::parse("v = " + text);
    if (parsed.size() == 1) {
      if (const toml::node* node = parsed.get("v")) {
        // Keep a copy of just the value; the parsed table goes away.
        std::shared_ptr<const toml::node> out;
        node->visit([&](auto&& v) { out = std::make_shared<std::remove_cvref_t<decltype(v)>>(v); });
        return out;
      }
    }
  } catch (const toml::parse_error&) {
    // Not a TOML value: a bare word such as 1d or tp-cp-dp-pp, meant as a string.
  }
  return std::make_shared<toml::value<std::string>>(text);
}

}  // namespace

std::string ConfigOverride::dotted_key() const {
  std::string out;
  for (const std::string& part : path) out += (out.empty() ? "" : ".") + part;
  return out;
}

namespace {

// Splits `argument` into `out`; returns what is wrong with it, or "" when it is well formed.
std::string split_override(std::string_view argument, ConfigOverride& out) {
  const std::string valid =
      "; valid: --set section.key=value, e.g. --set parallel.tensor=2, "
      "--set data.train=data/tiny.bin, --set comm.ucx.tls=shm";
  const std::size_t eq = argument.find('=');
  if (eq == std::string_view::npos) return "no '=' between the key and the value" + valid;
  std::string_view key = argument.substr(0, eq);
  // Spaces around '=' are what a TOML writer would type; accept them.
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  std::string_view value = argument.substr(eq + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (key.empty()) return "no key before '='" + valid;

  out.argument = std::string(argument);
  out.path.clear();
  std::size_t pos = 0;
  while (pos <= key.size()) {
    std::size_t dot = key.find('.', pos);
    if (dot == std::string_view::npos) dot = key.size();
    std::string_view part = key.substr(pos, dot - pos);
    if (part.empty()) return "the key '" + std::string(key) + "' has an empty part" + valid;
    if (!is_bare_key(part)) {
      // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "'" + std::string.
      std::string why(1, '\'');
      why.append(part).append("' is not a key (letters, digits, '_' and '-')").append(valid);
      return why;
    }
    out.path.emplace_back(part);
    pos = dot + 1;
  }
  if (out.path.size() < 2) return "the key '" + std::string(key) + "' names no section" + valid;
  out.value_text = std::string(value);
  return {};
}

}  // namespace

std::string override_syntax_problem(std::string_view argument) {
  ConfigOverride unused;
  return split_override(argument, unused);
}

ConfigOverride parse_override(std::string_view argument) {
  ConfigOverride out;
  if (std::string why = split_override(argument, out); !why.empty()) {
    throw InputError("--set '" + std::string(argument) + "': " + why);
  }
  out.value = parse_value(out.value_text);
  return out;
}

}  // namespace trellis
