// ProcessEnvironment: the environment a launcher gives a child, built from its own and edited by
// name, then turned into the NAME=value list execve() takes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trellis {

class ProcessEnvironment {
 public:
  // The environment of this process.
  static ProcessEnvironment current();

  void set(const std::string& name, const std::string& value) { vars_[name] = value; }
  // Sets `name` only when it is not set already (the user's choice wins).
  void set_default(const std::string& name, const std::string& value) {
    vars_.emplace(name, value);
  }
  void unset(const std::string& name) { vars_.erase(name); }
  std::optional<std::string> get(const std::string& name) const;

  std::vector<std::string> entries() const;  // "NAME=value", sorted by name

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace trellis
