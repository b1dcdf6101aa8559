// Configuration problems: collected while a run's configuration is read and checked, then
// reported together, so the user fixes everything in one round instead of one error per try.
//
// Each problem points at the value at fault: the file and line, the --set argument or the
// environment variable it came from, or "(default)" for a key the user left out.
#pragma once

#include <string>
#include <vector>

#include "config/config_origin.h"
#include "trellis/error.h"

namespace trellis {

// A problem with one value (or with the file as a whole when `key` is empty).
struct LocatedProblem {
  Origin origin;        // where the value at fault came from
  std::string key;      // "parallel.tensor", "comm.ucx.tls"; empty for the file itself
  std::string value;    // the value as TOML writes it, e.g. `3` or `"shm"`; may be empty
  std::string message;  // what is wrong, then "; valid: ..."

  // One line: "configs/x.toml:7: parallel.tensor = 3: <message>",
  // "--set parallel.tensor=3: <message>", "parallel.heads = 12 (default): <message>".
  std::string format() const;
};

class ProblemList {
 public:
  void add(LocatedProblem problem);
  bool empty() const noexcept { return problems_.empty(); }
  std::size_t size() const noexcept { return problems_.size(); }
  // In the order a user reads them: the file top to bottom, then --set arguments in order, the
  // environment, derived values and defaults; problems at the same place keep their order.
  std::vector<LocatedProblem> sorted() const;
  // Throws ConfigError with every problem when there is at least one.
  void throw_if_any() const;

 private:
  std::vector<LocatedProblem> problems_;
};

// A run configuration that cannot run. what() lists every problem, one a line.
class ConfigError : public InputError {
 public:
  explicit ConfigError(std::vector<LocatedProblem> problems);
  const std::vector<LocatedProblem>& problems() const noexcept { return problems_; }

 private:
  std::vector<LocatedProblem> problems_;
};

}  // namespace trellis
