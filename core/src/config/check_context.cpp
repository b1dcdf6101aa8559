#include "config/check_context.h"

#include "config/config_schema.h"
#include "config/config_value.h"
#include "text/quoted_string.h"

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
    return quoted_string(written->second);
  }
  if (const KeySpec* spec = find_key(key)) return field_value_text(spec->get(read_.config));
  // <section>.<plugin>.<option> of a plugin table
  if (const PluginOptionEntry* option = plugin_option(key)) return option_value_text(option->value);
  return {};
}

void CheckContext::note_written_path(std::string_view key, std::string written) {
  read_.written_paths[std::string(key)] = std::move(written);
}

std::string CheckContext::path_note(std::string_view key) const {
  auto it = read_.written_paths.find(std::string(key));
  if (it == read_.written_paths.end()) return "";
  const KeySpec* spec = find_key(key);
  const bool output = spec && spec->path_role == PathRole::output;
  return " (" + quoted_string(it->second) + " resolved against " +
         (output ? "[run] out_dir" : "the config file's directory") + ")";
}

const PluginOptionEntry* CheckContext::plugin_option(std::string_view key) const {
  // "comm.ucx.tls": the table is everything before the last dot.
  const std::size_t dot = key.rfind('.');
  if (dot == std::string_view::npos) return nullptr;
  auto table = read_.plugin_tables.find(std::string(key.substr(0, dot)));
  if (table == read_.plugin_tables.end()) return nullptr;
  auto option = table->second.options.find(std::string(key.substr(dot + 1)));
  return option == table->second.options.end() ? nullptr : &option->second;
}

void CheckContext::problem(std::string_view key, std::string message) {
  Origin where = origin(key);
  // Plugin options keep their origins in their table.
  if (where.kind == Origin::Kind::default_value) {
    if (const PluginOptionEntry* option = plugin_option(key)) {
      where = option->origin;
    } else if (auto table = read_.plugin_tables.find(std::string(key));
               table != read_.plugin_tables.end()) {
      where = table->second.origin;
    }
  }
  problems_.add({where, std::string(key), value_text(key), std::move(message)});
}

void CheckContext::problem_at(Origin origin, std::string message) {
  problems_.add({std::move(origin), "", "", std::move(message)});
}

}  // namespace trellis
