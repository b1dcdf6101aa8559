// The arithmetic of the layout. Core checks only what holds for every layer family and
// schedule; what a particular family or schedule needs (square tensor sizes, heads divisible by
// tensor, enough microbatches) is the business of that plugin's check.
//
// check_layout composes the concerns of layout_checks.h; the order of the calls is the order of
// the problems in the user's message.
#include <string>

#include "config/config_check.h"
#include "config/config_value.h"
#include "config/layout_checks.h"

namespace trellis {

namespace {

// Settings whose combination core does not run: bf16 off the GPU, virtual stages without a
// pipeline.
void check_unsupported_combinations(CheckContext& ctx) {
  const RunConfig& c = ctx.config();
  const ParallelSection& p = c.parallel;
  if (ctx.valid({"device.kind", "device.precision"}) && c.device.precision == "bf16" &&
      c.device.kind != "cuda") {
    ctx.problem("device.precision",
                "bf16 mixed precision runs on the CUDA kernels, but device.kind is \"" +
                    c.device.kind + "\"; valid: \"fp32\", or device.kind = \"cuda\"");
  }
  if (ctx.valid({"parallel.virtual_stages", "parallel.pipeline"}) && p.virtual_stages > 1 &&
      p.pipeline == 1) {
    ctx.problem("parallel.virtual_stages",
                "virtual stages split each pipeline stage's layers into chunks, which needs a "
                "pipeline; parallel.pipeline is 1; valid: 1, or parallel.pipeline >= 2");
  }
}

// Bounds between optimizer keys.
void check_optimizer_bounds(CheckContext& ctx) {
  const OptimSection& o = ctx.config().optim;
  if (ctx.valid({"optim.min_lr", "optim.lr", "optim.schedule"}) && o.schedule == "cosine" &&
      o.min_lr > o.lr) {
    ctx.problem(ctx.blame({"optim.min_lr", "optim.lr"}),
                "min_lr " + toml_float_text(o.min_lr) + " is above lr " + toml_float_text(o.lr) +
                    "; the cosine decays from lr down to min_lr; valid: min_lr <= lr");
  }
}

}  // namespace

LayoutStatus check_layout(CheckContext& ctx, const RunEnvironment& env, ResolvedRun& run) {
  RunConfig& c = ctx.config();
  const std::optional<WorldSize> world = check_world_size(ctx, env);
  if (world) {
    run.world_size = static_cast<int>(world->size);
    run.world_origin = world->origin;
  }
  check_unsupported_combinations(ctx);

  const std::optional<std::int64_t> data = world ? check_data_size(ctx, env, *world) : std::nullopt;
  bool ready = data.has_value() && ctx.valid("parallel.order");
  if (ready) {
    const ParallelSection& p = c.parallel;
    c.parallel.data = *data;
    run.layout =
        ParallelLayout(ParallelSizes{static_cast<int>(p.tensor), static_cast<int>(p.context),
                                     static_cast<int>(*data), static_cast<int>(p.pipeline)},
                       parse_rank_order(p.order));
  }
  // Every check runs whatever the earlier ones found, so that one message lists every problem.
  ready = check_model_split(ctx) && ready;
  run.virtual_stages = static_cast<int>(c.parallel.virtual_stages);
  ready = check_batch_split(ctx, data, run) && ready;
  ready = fill_model_dims(ctx, run) && ready;
  check_optimizer_bounds(ctx);
  return {world.has_value(), ready && ctx.valid("device.kind")};
}

}  // namespace trellis
