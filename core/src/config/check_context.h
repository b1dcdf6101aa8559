// What the checks of one run share: the configuration read so far, where each value came from,
// and the problem list. Checks report a problem against a key; the context adds where the key's
// value came from and what it is, so every message points at something the user can edit.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "config/config_reader.h"

namespace trellis {

class CheckContext {
 public:
  CheckContext(ReadConfig& read, ProblemList& problems) : read_(read), problems_(problems) {}

  RunConfig& config() noexcept { return read_.config; }
  const ReadConfig& read() const noexcept { return read_; }

  // The key's value was read without a problem of its own (or is the default).
  bool valid(std::string_view key) const { return read_.valid(key); }
  bool valid(std::initializer_list<std::string_view> keys) const;
  // Mark a value as bad, so that checks after this one leave it alone.
  void invalidate(std::string_view key);

  Origin origin(std::string_view key) const { return read_.origin(key); }
  bool explicit_value(std::string_view key) const { return origin(key).explicit_value(); }
  void set_origin(std::string_view key, Origin origin);
  // The key among `keys` to blame for a problem they share: the first the user set, else the
  // first — so the message points at a line the user wrote where there is one.
  std::string blame(std::initializer_list<std::string_view> keys) const;

  // The current value of a schema key or of a backend option ("comm.ucx.tls"), as TOML text.
  std::string value_text(std::string_view key) const;

  // A path key's value was `written` and resolved to what the config now holds.
  void note_written_path(std::string_view key, std::string written);
  // For messages about a path key: " (\"data/x.txt\" resolved against the config file's
  // directory)" when its value was resolved, else "".
  std::string path_note(std::string_view key) const;

  // A problem with the value of `key`.
  void problem(std::string_view key, std::string message);
  // A problem with a value that is not a config key, e.g. an environment variable.
  void problem_at(Origin origin, std::string message);

 private:
  // The option `key` ("comm.ucx.tls") of a plugin table, or null.
  const PluginOptionEntry* plugin_option(std::string_view key) const;
  ReadConfig& read_;
  ProblemList& problems_;
};

}  // namespace trellis
