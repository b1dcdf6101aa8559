// Loading a run: the entry point for trellis-train and the trainer.
//
//   ResolvedRun run = load_run("run.toml", {"parallel.tensor=2"}, RunEnvironment::from_process());
//
// reads the TOML file, applies the --set overrides (CLI > file > defaults), checks everything
// that can be checked before any rank starts — keys, types, ranges, the layout, input files,
// the plugins' own checks — and either returns the resolved run or throws ConfigError listing
// every problem found (an InputError: exit code 2).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config_error.h"
#include "config/load_purpose.h"
#include "config/resolved_run.h"
#include "config/run_environment.h"

namespace trellis {

// `overrides` are the values of --set: "section.key=value".
ResolvedRun load_run(const std::filesystem::path& config_file,
                     const std::vector<std::string>& overrides, const RunEnvironment& env,
                     LoadPurpose purpose = LoadPurpose::train);

// The same from TOML text; `config_file` names it in messages and anchors relative paths.
ResolvedRun load_run_text(std::string_view toml_text, const std::filesystem::path& config_file,
                          const std::vector<std::string>& overrides, const RunEnvironment& env,
                          LoadPurpose purpose = LoadPurpose::train);

}  // namespace trellis
