// trellis-generate's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "generate/token_sampler.h"

namespace trellis::generate_app {

extern const char* const kUsage;

struct GenerateArguments {
  std::string model;  // CHECKPOINT_OR_CONFIG
  std::optional<std::string> prompt;
  std::int64_t max_new_tokens = 64;
  SamplingSettings sampling;
  std::string tokenizer;  // --tokenizer; empty: the input's, else bytes
  int threads = 0;        // 0: the runtime decides
  bool tokens_only = false;
  bool help = false;
};

// Throws InputError (exit 2) with the usage for a bad command line: an unknown flag, a flag
// without its value, a value that is not a number of the flag's range, no CHECKPOINT_OR_CONFIG
// or no --prompt.
GenerateArguments parse_generate_arguments(int argc, char** argv);

}  // namespace trellis::generate_app
