// The file and the overrides are first flattened into one map from dotted key to value, the
// overrides replacing file values, so every later step sees each key once with its origin.
#include "config/config_reader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "config/config_override.h"
#include "config/config_schema.h"
#include "config/config_value.h"
#include "config/did_you_mean.h"
#include "os/absolute_path.h"

namespace trellis {

Origin ReadConfig::origin(std::string_view key) const {
  auto it = origins.find(std::string(key));
  return it == origins.end() ? Origin{} : it->second;
}

namespace {

struct Entry {
  std::vector<std::string> path;
  const toml::node* node = nullptr;
  Origin origin;
  std::optional<std::string> override_text;  // the raw value of a --set
};

std::string join(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < parts.size(); ++i) out += (i ? "." : "") + parts[i];
  return out;
}

std::string list_text(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

void flatten(const toml::table& table, std::vector<std::string>& prefix, const std::string& file,
             std::map<std::string, Entry>& out) {
  for (auto&& [key, node] : table) {
    prefix.emplace_back(key.str());
    // The key's position is where the user looks; a table made implicitly by a dotted header
    // ([comm.ucx] makes comm) may have none, then the value's is the next best.
    const toml::source_position& at =
        key.source().begin.line > 0 ? key.source().begin : node.source().begin;
    Entry entry{prefix, &node, Origin::in_file(file, static_cast<int>(at.line)), std::nullopt};
    out[join(prefix, prefix.size())] = entry;
    if (const toml::table* sub = node.as_table()) flatten(*sub, prefix, file, out);
    prefix.pop_back();
  }
}

class Reader {
 public:
  Reader(ReadConfig& read, ProblemList& problems)
      : read_(read), problems_(problems), base_(std::filesystem::path(read.file).parent_path()) {}

  void add(const Entry& entry) {
    const std::vector<std::string>& path = entry.path;
    const std::string& section = path[0];
    const bool known_section = is_section(section);
    if (path.size() == 1) {
      top_level(entry, known_section);
      return;
    }
    if (!known_section) {
      if (reported_.insert("[" + section + "]").second) unknown_section(entry, section);
      return;
    }
    if (conflicts_.count(section)) return;  // `section = value`, reported already
    if (section == "comm" && path[1] == "groups") {
      group_backend(entry);
      return;
    }
    if (plugin_table_kind(section)) {
      plugin_table(entry);
      return;
    }
    const std::string key = join(path, 2);
    if (path.size() > 2 && find_key(section, path[1])) {
      // --set run.name.x=1, or a file giving run.name both as a value and as a table.
      if (reported_.insert(join(path, 3)).second) {
        problem(
            entry, join(path, 3), "",
            key + " takes " + find_key(section, path[1])->valid_text() + ", not a table of keys");
      }
      return;
    }
    if (path.size() > 2 || !find_key(section, path[1])) {
      if (reported_.insert(key).second) {
        problem(entry, key, entry.path.size() > 2 ? "" : toml_text(*entry.node),
                "unknown key in [" + section + "]" + did_you_mean(path[1], section_keys(section)) +
                    "; valid keys: " + list_text(section_keys(section)));
      }
      return;
    }
    read_value(*find_key(section, path[1]), entry);
  }

  // A section given as a plain value (`device = "cpu"`) is reported once, as itself; keys that
  // --set puts under it are then left alone.
  void note_conflict(const std::string& section) { conflicts_.insert(section); }

 private:
  static bool is_section(const std::string& name) {
    for (const std::string& s : config_sections())
      if (s == name) return true;
    return false;
  }

  void problem(const Entry& entry, std::string key, std::string value, std::string message) {
    problems_.add({entry.origin, std::move(key), std::move(value), std::move(message)});
  }

  void unknown_section(const Entry& entry, const std::string& section) {
    problem(entry, "[" + section + "]", "",
            "unknown section" + did_you_mean(section, config_sections()) +
                "; valid sections: " + list_text(config_sections()));
  }

  void top_level(const Entry& entry, bool known_section) {
    const std::string& name = entry.path[0];
    if (entry.node->is_table()) {
      if (!known_section && reported_.insert("[" + name + "]").second) unknown_section(entry, name);
      return;
    }
    if (known_section) {
      conflicts_.insert(name);
      problem(entry, name, toml_text(*entry.node),
              "[" + name + "] is a section, not a value; write [" + name +
                  "] on a line of its own, its keys below it");
      return;
    }
    std::string hint;
    for (const std::string& section : config_sections()) {
      if (find_key(section, name)) {
        hint = " (did you mean " + name + " under [" + section + "]?)";
        break;
      }
    }
    problem(entry, name, toml_text(*entry.node),
            "a key outside any section" + hint +
                "; keys belong in a section: " + list_text(config_sections()));
  }

  // [comm.groups]: a backend per parallel dimension, held by [comm]'s keys "groups.<dimension>".
  void group_backend(const Entry& entry) {
    const std::vector<std::string>& path = entry.path;
    if (path.size() == 2) {
      if (entry.node->is_table()) return;
      problem(entry, "comm.groups", toml_text(*entry.node),
              "[comm.groups] is a table naming a backend per parallel dimension, e.g. "
              "[comm.groups] tensor = \"ucx\"; valid keys: " +
                  list_text(group_dimension_keys()));
      return;
    }
    const std::string key = join(path, 3);
    const KeySpec* spec = path.size() == 3 ? find_key("comm", "groups." + path[2]) : nullptr;
    if (!spec) {
      if (reported_.insert(key).second) {
        problem(entry, key, path.size() > 3 ? "" : toml_text(*entry.node),
                "unknown key in [comm.groups]" + did_you_mean(path[2], group_dimension_keys()) +
                    "; valid keys: " + list_text(group_dimension_keys()) +
                    " (each names the comm backend of that dimension's groups)");
      }
      return;
    }
    read_value(*spec, entry);
  }

  static std::vector<std::string> group_dimension_keys() {
    std::vector<std::string> keys;
    for (const std::string& name : section_keys("comm")) {
      if (name.starts_with("groups.")) keys.push_back(name.substr(7));
    }
    return keys;
  }

  // A key of [comm] itself, or an option of a plugin's table: [comm.<backend>],
  // [schedule.<name>], [layers.<name>].
  void plugin_table(const Entry& entry) {
    const std::vector<std::string>& path = entry.path;
    const std::string& section = path[0];
    const std::string& name = path[1];
    const std::string what = section == "comm"       ? "backend"
                             : section == "schedule" ? "schedule"
                                                     : "layer family";
    if (path.size() == 2) {
      if (const KeySpec* spec = find_key(section, name)) {
        read_value(*spec, entry);
      } else if (entry.node->is_table()) {
        read_.plugin_tables[section + "." + name].origin = entry.origin;
      } else {
        const std::vector<std::string> keys = section_keys(section);
        problem(entry, section + "." + name, toml_text(*entry.node),
                keys.empty() ? "[" + section + "] holds only [" + section + ".<" + what +
                                   ">] tables of a " + what + "'s options, no values"
                             : "unknown key in [" + section + "]" + did_you_mean(name, keys) +
                                   "; valid keys: " + list_text(keys) + ", and [" + section + ".<" +
                                   what + ">] tables for a " + what + "'s options");
      }
      return;
    }
    const std::string table_key = join(path, 2);
    if (find_key(section, name)) {
      if (reported_.insert(table_key).second) {
        problem(entry, table_key, "",
                section + "." + name + " is a value, not a table of " + what + " options");
      }
      return;
    }
    if (path.size() > 3) {
      if (reported_.insert(join(path, 3)).second) {
        problem(entry, join(path, 3), "",
                "[" + table_key +
                    "] holds plain options (booleans, integers, numbers, strings); "
                    "it has no sub-tables");
      }
      return;
    }
    PluginTable& table = read_.plugin_tables[table_key];
    if (table.origin.kind == Origin::Kind::default_value) table.origin = entry.origin;
    const toml::node& node = *entry.node;
    const std::string key = join(path, 3);
    std::optional<OptionValue> value;
    if (auto v = node.value_exact<bool>())
      value = *v;
    else if (auto i = node.value_exact<std::int64_t>())
      value = *i;
    else if (auto d = node.value_exact<double>())
      value = *d;
    else if (auto s = node.value_exact<std::string>())
      value = *s;
    if (!value) {
      reported_.insert(key);
      problem(entry, key, toml_text(node),
              "wrong type: " + what + " options are booleans, integers, numbers or strings; got " +
                  toml_type_phrase(node));
      return;
    }
    table.options[path[2]] = {*value, entry.origin, entry.override_text};
  }

  // `text` when it is TOML for a value of `spec`'s type, for the hint "write it without quotes".
  static std::optional<std::string> unquoted_hint(const KeySpec& spec, const std::string& text) {
    try {
      toml::table t = toml::parse("v = " + text);
      const toml::node* v = t.get("v");
      if (!v || t.size() != 1) return std::nullopt;
      const bool fits = (spec.field.index() == 0 && v->is_boolean()) ||
                        (spec.field.index() == 1 && v->is_integer()) ||
                        (spec.field.index() == 2 && v->is_number());
      if (fits) return toml_text(*v);
    } catch (const toml::parse_error&) {
    }
    return std::nullopt;
  }

  // The value of `entry` as `spec`'s type, or nullopt after reporting what is wrong.
  std::optional<FieldValue> typed_value(const KeySpec& spec, const Entry& entry) {
    const toml::node& node = *entry.node;
    const bool from_override = entry.override_text.has_value();
    switch (spec.field.index()) {
      case 0:
        if (auto v = node.value_exact<bool>()) return FieldValue{*v};
        break;
      case 1:
        if (auto v = node.value_exact<std::int64_t>()) return FieldValue{*v};
        break;
      case 2:  // integers are numbers too
        if (auto v = node.value_exact<double>()) return FieldValue{*v};
        if (auto v = node.value_exact<std::int64_t>()) return FieldValue{static_cast<double>(*v)};
        break;
      case 3:
        if (auto v = node.value_exact<std::string>()) return FieldValue{*v};
        // On the command line, quotes are a nuisance: --set run.name=123 means the string.
        if (from_override) return FieldValue{*entry.override_text};
        break;
      case 4:
        if (const toml::array* array = node.as_array()) {
          std::vector<std::string> items;
          for (std::size_t i = 0; i < array->size(); ++i) {
            auto item = (*array)[i].value_exact<std::string>();
            if (!item) {
              problem(entry, spec.dotted(), toml_text(node),
                      "wrong type: element " + std::to_string(i) + " is " +
                          toml_type_phrase((*array)[i]) + "; valid: " + spec.valid_text());
              return std::nullopt;
            }
            items.push_back(*item);
          }
          return FieldValue{std::move(items)};
        }
        if (from_override) return FieldValue{std::vector<std::string>{*entry.override_text}};
        break;
    }
    std::string message = "wrong type: expected " + std::string(spec.type_phrase()) + ", got " +
                          toml_type_phrase(node) + "; valid: " + spec.valid_text();
    if (auto s = node.value_exact<std::string>()) {
      if (auto hint = unquoted_hint(spec, *s)) message += " (write " + *hint + " without quotes)";
    } else if (spec.field.index() == 1 && node.is_floating_point()) {
      message += " (no fractional part, no exponent)";
    }
    problem(entry, spec.dotted(), toml_text(node), message);
    return std::nullopt;
  }

  std::string resolve_path(const std::string& path) const {
    if (path.empty() || base_.empty()) return path;
    std::filesystem::path p(path);
    if (p.is_absolute()) return path;
    return (base_ / p).lexically_normal().string();
  }

  // Input paths only: output paths resolve against [run] out_dir once it is known
  // (resolve_output_paths).
  void resolve_paths(const KeySpec& spec, FieldValue& value) {
    if (spec.path_role != PathRole::input) return;
    if (std::holds_alternative<std::string>(value)) {
      std::string& text = std::get<std::string>(value);
      const std::string written = text;
      if (spec.section == "model" && spec.name == "init") {
        // "llmc:PATH", "checkpoint:DIR" and "hf:DIR" carry a path; "random" is none.
        for (std::string_view prefix : {"llmc:", "checkpoint:", "hf:"}) {
          if (text.starts_with(prefix)) {
            text = std::string(prefix) + resolve_path(text.substr(prefix.size()));
          }
        }
      } else if (spec.section == "data" && spec.name == "tokenizer") {
        // "gpt2:DIR" carries a path; "bytes" is none.
        if (text.starts_with("gpt2:")) text = "gpt2:" + resolve_path(text.substr(5));
      } else {
        text = resolve_path(text);
      }
      if (text != written) read_.written_paths[spec.dotted()] = written;
    } else if (auto* list = std::get_if<std::vector<std::string>>(&value)) {
      for (std::string& item : *list) item = resolve_path(item);
    }
  }

  void read_value(const KeySpec& spec, const Entry& entry) {
    const std::string key = spec.dotted();
    read_.origins[key] = entry.origin;
    std::optional<FieldValue> value = typed_value(spec, entry);
    if (!value) {
      read_.invalid.insert(key);
      return;
    }
    if (std::string why = spec.violation(*value); !why.empty()) {
      problem(entry, key, toml_text(*entry.node), why);
      read_.invalid.insert(key);
      return;
    }
    if (entry.origin.kind == Origin::Kind::file) resolve_paths(spec, *value);
    spec.set(read_.config, std::move(*value));
  }

  ReadConfig& read_;
  ProblemList& problems_;
  std::filesystem::path base_;
  std::set<std::string> reported_;   // keys and sections reported once already
  std::set<std::string> conflicts_;  // sections given as plain values
};

ReadConfig read_parsed(const toml::table* table, const std::filesystem::path& file,
                       const std::vector<std::string>& overrides, ProblemList& problems) {
  ReadConfig read;
  read.file = file.string();
  read.parsed = table != nullptr;

  std::vector<ConfigOverride> parsed_overrides;
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    if (std::string why = override_syntax_problem(overrides[i]); !why.empty()) {
      problems.add({Origin::from_override(overrides[i], static_cast<int>(i + 1)), "", "", why});
    } else {
      parsed_overrides.push_back(parse_override(overrides[i]));
    }
  }
  if (!table) return read;

  std::map<std::string, Entry> entries;
  std::vector<std::string> prefix;
  flatten(*table, prefix, read.file, entries);
  for (std::size_t i = 0; i < parsed_overrides.size(); ++i) {
    const ConfigOverride& o = parsed_overrides[i];
    entries[o.dotted_key()] =
        Entry{o.path, o.value.get(), Origin::from_override(o.argument, static_cast<int>(i + 1)),
              o.value_text};
  }

  Reader reader(read, problems);
  // Sections given as plain values are known before their keys are visited: a key sorts after
  // its section, but an override's section may be a value from the file.
  for (const auto& [key, entry] : entries) {
    if (entry.path.size() == 1 && !entry.node->is_table()) reader.note_conflict(key);
  }
  for (const auto& [key, entry] : entries) reader.add(entry);
  // parsed_overrides own the override values the entries point to; keep them until here.
  return read;
}

}  // namespace

ReadConfig read_config_text(std::string_view toml_text, const std::filesystem::path& file,
                            const std::vector<std::string>& overrides, ProblemList& problems) {
  const std::string name = file.string();
  try {
    toml::table table = toml::parse(toml_text, name);
    return read_parsed(&table, file, overrides, problems);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    problems.add({Origin::in_file(name, static_cast<int>(at.line), static_cast<int>(at.column)), "",
                  "", "TOML syntax error: " + std::string(e.description())});
    return read_parsed(nullptr, file, overrides, problems);
  }
}

ReadConfig read_config(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       ProblemList& problems) {
  const std::string name = file.string();
  auto unreadable = [&](const std::string& why) {
    problems.add({Origin::in_file(name, 0), "", "",
                  "cannot read the config file " + absolute_path_text(file) + ": " + why});
    return read_parsed(nullptr, file, overrides, problems);
  };
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) return unreadable("it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;
    return unreadable(std::filesystem::exists(file, ec) ? std::strerror(err) : "no such file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return read_config_text(text.str(), file, overrides, problems);
}

}  // namespace trellis
