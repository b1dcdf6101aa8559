// The layer family must build the run's architecture: its plugin says so (builds_architectures,
// ABI 2.6). Apart from model_architecture_check.cpp because it asks the plugin registry, which
// the config's fuzzing harness does not build.
#include <string>

#include "config/architecture_messages.h"
#include "config/config_check.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis {

void check_architecture_family(CheckContext& ctx, const ResolvedRun& run) {
  const ModelSection& m = ctx.config().model;
  if (run.arch.ffn_hidden == 0 || run.arch.is_gpt2(m.hidden, m.heads) || !run.registry ||
      !ctx.valid("parallel.tensor_mode")) {
    return;  // not resolved (its problems are reported), GPT-2's, or no family to ask
  }
  const std::string& family = ctx.config().parallel.tensor_mode;
  std::string why;
  try {
    if (run.registry->builds_architectures(family)) return;
    const AbiVersion abi = run.registry->find(PluginKind::layers, family).abi;
    why = abi.minor < 6 ? "it was built against plugin ABI " + std::to_string(abi.major) + "." +
                              std::to_string(abi.minor) + ", before builds_architectures (2.6)"
                        : "its descriptor's builds_architectures, ABI 2.6, is not set";
  } catch (const PluginError&) {
    return;  // an unknown family is reported against parallel.tensor_mode
  }
  const std::string key = non_gpt2_key(m, run.arch);
  ctx.problem(key, "the layers plugin \"" + family +
                       "\" (parallel.tensor_mode) builds GPT-2's blocks only (" + why + "), and " +
                       non_gpt2_phrase(ctx, key) +
                       "; valid: a tensor_mode whose family builds other architectures, or " +
                       gpt2_remedy(key));
}

}  // namespace trellis
