#include "config/check_context.h"

#include "config/config_schema.h"
#include "config/config_value.h"

namespace trellis {

bool CheckContext::valid(std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys)
    if (!valid(key)) return false;
  return true;
}

void CheckContext::invalidate(std::string_view key) {
  read_.invalid.insert(std::string(key));
}

void CheckContext::set_origin(std::string_view key, Origin origin) {
  read_.origins[std::string(key)] = std::move(origin);
}

std::string CheckContext::blame(std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys)
    if (explicit_value(key)) return std::string(key);
  return keys.size() ? std::string(*keys.begin()) : std::string();
}

std::string CheckContext::value_text(std::string_view key) const {
  // A path shows as the user wrote it; messages give the resolved path where it matters.
  if (auto written = read_.written_paths.find(std::string(key));
      written != read_.written_paths.end()) {
    return toml_quoted(written->second);
  }
  if (const KeySpec* spec = find_key(key)) return field_value_text(spec->get(read_.config));
  // comm.<backend>.<option>
  if (key.starts_with("comm.")) {
    std::string_view rest = key.substr(5);
    const std::size_t dot = rest.find('.');
    if (dot != std::string_view::npos) {
      auto table = read_.comm_tables.find(std::string(rest.substr(0, dot)));
      if (table != read_.comm_tables.end()) {
        auto option = table->second.options.find(std::string(rest.substr(dot + 1)));
        if (option != table->second.options.end()) return option_value_text(option->second.value);
      }
    }
  }
  return {};
}

void CheckContext::problem(std::string_view key, std::string message) {
  Origin where = origin(key);
  // Backend options keep their origins in their table.
  if (where.kind == Origin::Kind::default_value && key.starts_with("comm.")) {
    std::string_view rest = key.substr(5);
    const std::size_t dot = rest.find('.');
    auto table = read_.comm_tables.find(std::string(rest.substr(0, dot)));
    if (table != read_.comm_tables.end()) {
      where = table->second.origin;
      if (dot != std::string_view::npos) {
        auto option = table->second.options.find(std::string(rest.substr(dot + 1)));
        if (option != table->second.options.end()) where = option->second.origin;
      }
    }
  }
  problems_.add({where, std::string(key), value_text(key), std::move(message)});
}

void CheckContext::problem_at(Origin origin, std::string message) {
  problems_.add({std::move(origin), "", "", std::move(message)});
}

}  // namespace trellis
