#include "config/config_value.h"
#include "text/quoted_string.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace trellis {

std::string toml_float_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, ec == std::errc() ? end : buf);
  // to_chars writes exponents with two digits at least (1e-08); people write 1e-8.
  if (const std::size_t e = out.find('e'); e != std::string::npos) {
    std::size_t digits = e + 1;
    if (digits < out.size() && (out[digits] == '-' || out[digits] == '+')) ++digits;
    while (digits + 1 < out.size() && out[digits] == '0') out.erase(digits, 1);
    return out;
  }
  if (out.find('.') == std::string::npos) out += ".0";
  return out;
}

std::string toml_text(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return quoted_string(node.as_string()->get());
    case toml::node_type::integer:
      return std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point:
      return toml_float_text(node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::array: {
      std::string out = "[";
      bool first = true;
      for (const toml::node& element : *node.as_array()) {
        if (!first) out += ", ";
        first = false;
        out += toml_text(element);
      }
      return out + "]";
    }
    case toml::node_type::table: {
      std::string out = "{";
      bool first = true;
      for (auto&& [key, value] : *node.as_table()) {
        out += first ? " " : ", ";
        first = false;
        out += std::string(key.str()) + " = " + toml_text(value);
      }
      return out + (first ? "}" : " }");
    }
    default: {
      // Dates and times: toml++ prints them in TOML form.
      std::ostringstream out;
      node.visit([&](auto&& v) { out << v; });
      return out.str();
    }
  }
}

std::string toml_type_phrase(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string option_value_text(const OptionValue& value) {
  struct Visitor {
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return toml_float_text(v); }
    std::string operator()(const std::string& v) const { return quoted_string(v); }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace trellis
