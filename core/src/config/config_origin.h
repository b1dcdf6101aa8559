// Where a configuration value came from: the place an error message points the user to, and the
// "from" column of `trellis-train --dry-run`.
#pragma once

#include <string>

namespace trellis {

struct Origin {
  enum class Kind : unsigned char {
    default_value,  // nobody set it
    file,           // the TOML file, at `line`
    override_arg,   // a --set argument, `text` (its position among the --set args in `line`)
    environment,    // an environment variable, `text` is "NAME=value"
    derived,        // computed by the loader; `text` says from what
  };

  Kind kind = Kind::default_value;
  std::string file;  // for file: the config file as the user named it
  int line = 0;      // for file: 1-based line; 0 when unknown
  int column = 0;    // for file: 1-based column; 0 when unknown
  std::string text;
  // How the loader filled in a sentinel, e.g. "runs/<name>" for an empty out_dir, or
  // "-1: the rest" for parallel.data; shown after the origin.
  std::string note;

  static Origin in_file(std::string file, int line, int column = 0) {
    return {Kind::file, std::move(file), line, column, {}, {}};
  }
  static Origin from_override(std::string argument, int index) {
    return {Kind::override_arg, {}, index, 0, "--set " + std::move(argument), {}};
  }
  static Origin from_environment(std::string name_equals_value) {
    return {Kind::environment, {}, 0, 0, std::move(name_equals_value), {}};
  }
  static Origin derived_from(std::string how) {
    return {Kind::derived, {}, 0, 0, std::move(how), {}};
  }

  // True when the user wrote the value (file, --set or environment).
  bool explicit_value() const noexcept {
    return kind == Kind::file || kind == Kind::override_arg || kind == Kind::environment;
  }
  // "configs/x.toml:7", "--set parallel.tensor=3", "TRELLIS_WORLD_SIZE=8", "default", or how it
  // was derived; then the note in parentheses, if any.
  std::string describe() const;
};

}  // namespace trellis
