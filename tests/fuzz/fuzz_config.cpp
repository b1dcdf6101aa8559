// libFuzzer harness: the run configuration's reader with --set overrides, and the layout checks
// that follow it (world size, microbatches, chunks, the arithmetic of several keys), and the
// model architecture's presets and checks.
// Input: TOML text, then optionally a NUL byte and --set arguments, one a line
//   [parallel]\ntensor = 2\n\0parallel.pipeline=2\ntrain.micro_batch=3
// Bad input must end in problems (a ConfigError, exit 2); any other exception, crash or
// sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/check_context.h"
#include "config/config_check.h"
#include "config/config_reader.h"
#include "config/resolved_run.h"
#include "config/run_environment.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view toml = input.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string_view::npos) {
    std::string_view rest = input.substr(split + 1);
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      overrides.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }
  try {
    trellis::ProblemList problems;
    trellis::ReadConfig read = trellis::read_config_text(toml, "fuzz.toml", overrides, problems);
    if (!read.parsed) return 0;
    trellis::CheckContext ctx(read, problems);
    trellis::ResolvedRun run;
    trellis::check_layout(ctx, trellis::RunEnvironment{}, run);
    trellis::check_model_architecture(ctx, run);
    for (const trellis::LocatedProblem& p : problems.sorted()) (void)p.format();
  } catch (const trellis::InputError&) {
    // A bad argument or file, reported as the tools report it.
  }
  return 0;
}
