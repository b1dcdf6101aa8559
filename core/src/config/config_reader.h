// Reading a run configuration: the TOML file, then the --set overrides on top of it, into
// RunConfig. This stage checks what can be checked one key at a time — TOML syntax, unknown
// sections and keys, types, ranges — and records where every value came from. Checks that
// involve several keys, files or plugins come after (config_loader.h).
//
// Relative paths ([run] out_dir, [data] train/val, [checkpoint] dir, [logging] metrics/trace,
// [plugins] paths and the PATH of model.init) resolve against the directory of the TOML file
// when they come from the file, so a config can sit next to its data; paths given with --set
// are left relative to the working directory, like any command-line path.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "config/config_origin.h"
#include "config/run_config.h"
#include "trellis/config.h"

namespace trellis {

// One option of a plugin's table ([comm.<backend>], [schedule.<name>], [layers.<name>]),
// before the plugin's OptionSpecs are known.
struct PluginOptionEntry {
  OptionValue value;
  Origin origin;
  std::optional<std::string> override_text;  // the raw --set value, when it came from one
};

struct PluginTable {
  Origin origin;  // of the table's header, or of the first option set
  std::map<std::string, PluginOptionEntry> options;
};

struct ReadConfig {
  std::string file;     // the config file as the user named it
  bool parsed = false;  // false when the file could not be read or is not TOML
  RunConfig config;
  // Keys ("section.key") set by the file or --set. Keys absent here hold their defaults.
  std::map<std::string, Origin> origins;
  // Keys whose value was rejected; their field holds the default, and checks that involve them
  // are skipped so that one mistake is reported once.
  std::set<std::string> invalid;
  // Plugin option tables by their key: "comm.ucx", "schedule.csv", "layers.2d".
  std::map<std::string, PluginTable> plugin_tables;
  // Paths as written, for keys whose relative value was resolved: an input path against the
  // config file's directory, an output path against [run] out_dir.
  std::map<std::string, std::string> written_paths;

  Origin origin(std::string_view key) const;
  bool valid(std::string_view key) const { return invalid.count(std::string(key)) == 0; }
};

// Reads `file` and applies `overrides` (the arguments of --set, without "--set").
ReadConfig read_config(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                       ProblemList& problems);

// The same from TOML text; `file` names it in messages and anchors relative paths.
ReadConfig read_config_text(std::string_view toml_text, const std::filesystem::path& file,
                            const std::vector<std::string>& overrides, ProblemList& problems);

}  // namespace trellis
