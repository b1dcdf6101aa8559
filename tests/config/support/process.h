// Running trellis-train as a user would, to test exit codes and what it prints.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trellis::test {

struct ProcessResult {
  int exit_code = -1;  // the exit status; 128 + signal when killed by one
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs `argv` (argv[0] a path) in `cwd` (empty: ours). The child's environment is ours without
// the variables that change how trellis-train resolves a run (launcher world sizes,
// TRELLIS_PLUGIN_PATH), then `env` on top; a nullopt value removes a variable.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::optional<std::string>>& env = {},
                          const std::filesystem::path& cwd = {});

// trellis-train with the config tests' plugins on TRELLIS_PLUGIN_PATH.
ProcessResult run_trellis_train(std::vector<std::string> args,
                                std::map<std::string, std::optional<std::string>> env = {},
                                const std::filesystem::path& cwd = {});

}  // namespace trellis::test
