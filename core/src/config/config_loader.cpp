#include "config/config_loader.h"

#include "config/check_context.h"
#include "config/config_check.h"
#include "config/config_reader.h"
#include "config/config_schema.h"

namespace trellis {

namespace {

ResolvedRun resolve(ReadConfig read, const RunEnvironment& env, LoadPurpose purpose,
                    ProblemList& problems) {
  // A file that is not TOML gives nothing to check further. Otherwise the checks go on past
  // problems found so far (the values at fault are marked invalid and left alone), so that
  // everything is reported at once.
  if (!read.parsed) problems.throw_if_any();

  ResolvedRun run;
  run.config_file = read.file;
  CheckContext ctx(read, problems);
  resolve_output_paths(ctx);
  check_model_init(ctx, run);
  check_model_export(ctx, run);
  check_moe(ctx, run);
  LayoutStatus layout = check_layout(ctx, env, run);
  // Plugins' checks see the architecture: without one known, none runs.
  layout.query_ready = check_model_architecture(ctx, run) && layout.query_ready;
  check_expert_parallel(ctx, layout, run);
  if (purpose == LoadPurpose::train) {
    check_input_files(ctx, run);
    check_tokenizer(ctx, run);
  }
  check_plugins(ctx, env, layout, purpose, run);
  check_recompute(ctx, run);
  check_moe_family(ctx, run);
  check_expert_backend(ctx, run);
  check_architecture_family(ctx, run);
  problems.throw_if_any();

  fill_derived_settings(ctx, run);
  check_checkpoint_resume(ctx, run);
  problems.throw_if_any();
  run.config = read.config;
  for (const KeySpec& key : config_keys()) run.origins[key.dotted()] = read.origin(key.dotted());
  for (const auto& [table_key, table] : read.plugin_tables) {
    for (const auto& [option, entry] : table.options) {
      run.origins[table_key + "." + option] = entry.origin;
    }
  }
  return run;
}

}  // namespace

ResolvedRun load_run(const std::filesystem::path& config_file,
                     const std::vector<std::string>& overrides, const RunEnvironment& env,
                     LoadPurpose purpose) {
  ProblemList problems;
  ReadConfig read = read_config(config_file, overrides, problems);
  return resolve(std::move(read), env, purpose, problems);
}

ResolvedRun load_run_text(std::string_view toml_text, const std::filesystem::path& config_file,
                          const std::vector<std::string>& overrides, const RunEnvironment& env,
                          LoadPurpose purpose) {
  ProblemList problems;
  ReadConfig read = read_config_text(toml_text, config_file, overrides, problems);
  return resolve(std::move(read), env, purpose, problems);
}

}  // namespace trellis
