// The schema of the run configuration: every section and key, its type, the values it accepts
// and the RunConfig field it fills. The reader, the checks and --dry-run all walk this one table,
// so a key added here is read, checked and printed everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/run_config.h"
#include "trellis/plugin.h"

namespace trellis {

// A value as read, before it is stored into its field.
using FieldValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

// Accessors of the RunConfig field a key fills.
using BoolField = bool& (*)(RunConfig&);
using IntField = std::int64_t& (*)(RunConfig&);
using NumberField = double& (*)(RunConfig&);
using StringField = std::string& (*)(RunConfig&);
using StringListField = std::vector<std::string>& (*)(RunConfig&);
using FieldRef = std::variant<BoolField, IntField, NumberField, StringField, StringListField>;

// What a key accepts beyond its type.
struct ValueRule {
  enum class Kind : unsigned char {
    any,
    int_range,               // [min_int, max_int]
    int_range_or_minus_one,  // -1 (meaning `minus_one`), or [min_int, max_int]
    number_range,            // min_number <(=) x <(=) max_number, finite
    choices,                 // one of `choices`
    non_empty,               // a non-empty string
    rank_order,              // trellis::parse_rank_order accepts it
  };
  Kind kind = Kind::any;
  std::int64_t min_int = 0;
  std::int64_t max_int = 0;
  double min_number = 0;
  double max_number = 0;
  bool min_open = false;  // min_number itself is outside
  bool max_open = false;
  std::vector<std::string_view> choices = {};
  std::string_view minus_one = {};  // int_range_or_minus_one: what -1 stands for
};

// What a key's relative path resolves against (docs/configuration.md, "Paths").
enum class PathRole : unsigned char {
  none,    // not a path
  input,   // a file the run reads: the config file's directory (in the file), else the
           // working directory (--set)
  output,  // where the run writes: [run] out_dir, however it was given
};

struct KeySpec {
  std::string_view section;
  std::string_view name;
  FieldRef field;
  ValueRule rule;
  // model.init and model.export hold a path after their "llmc:" / "checkpoint:" prefix.
  PathRole path_role = PathRole::none;

  std::string dotted() const { return std::string(section) + "." + std::string(name); }
  // "an integer", "a number", "a boolean", "a string", "an array of strings".
  const char* type_phrase() const;
  // What is valid, for messages: "an integer >= 1", "\"cpu\" or \"cuda\"", "0 or 1".
  std::string valid_text() const;
  // Empty when `value` (of this key's type) passes the rule, else what is wrong with it.
  std::string violation(const FieldValue& value) const;

  FieldValue get(const RunConfig& config) const;
  void set(RunConfig& config, FieldValue value) const;  // value must be of the key's type
};

// Every key, section by section, in the order of docs/configuration.md.
const std::vector<KeySpec>& config_keys();
// The sections in order: run, launch, comm, ...
// The sections in order, including those that only hold plugin option tables.
const std::vector<std::string>& config_sections();
// The plugin kind whose option tables a section holds: [comm.<backend>], [schedule.<name>],
// [layers.<name>] (a tensor mode). Other sections hold none.
std::optional<PluginKind> plugin_table_kind(std::string_view section);
// Names of the keys of `section`.
std::vector<std::string> section_keys(std::string_view section);
const KeySpec* find_key(std::string_view section, std::string_view name);
const KeySpec* find_key(std::string_view dotted);

// `value` as TOML writes it.
std::string field_value_text(const FieldValue& value);

}  // namespace trellis
