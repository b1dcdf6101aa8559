// [train] recompute, recompute_method and recompute_num_layers (model/recompute_plan.h).
#include <string>

#include "config/config_check.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

}  // namespace

void check_recompute(CheckContext& ctx, ResolvedRun& run) {
  if (!ctx.valid({"train.recompute", "train.recompute_method", "train.recompute_num_layers"}))
    return;
  const TrainSection& t = ctx.config().train;
  run.recompute =
      recompute_settings(t.recompute, t.recompute_method, static_cast<int>(t.recompute_num_layers));
  if (run.recompute.granularity != RecomputeGranularity::full) {
    // Megatron-LM's method and group size belong to full recomputation; set with another
    // granularity they would silently do nothing.
    for (const char* key : {"train.recompute_method", "train.recompute_num_layers"}) {
      if (!ctx.explicit_value(key)) continue;
      ctx.problem(key, "applies to recompute = \"full\" only, and recompute is \"" + t.recompute +
                           "\"; valid: remove " + std::string(key) +
                           ", or set recompute = \"full\"");
    }
  }
  if (run.recompute.granularity == RecomputeGranularity::full &&
      ctx.valid({"model.layers", "parallel.pipeline", "parallel.virtual_stages"}) &&
      ctx.config().model.layers %
              (ctx.config().parallel.pipeline * ctx.config().parallel.virtual_stages) ==
          0) {
    const ParallelSection& p = ctx.config().parallel;
    const std::int64_t blocks = ctx.config().model.layers / (p.pipeline * p.virtual_stages);
    if (t.recompute_num_layers > blocks) {
      ctx.problem(ctx.blame({"train.recompute_num_layers", "parallel.pipeline", "model.layers"}),
                  "recompute_num_layers " + str(t.recompute_num_layers) + " is more than the " +
                      str(blocks) + " blocks of each model chunk (layers " +
                      str(ctx.config().model.layers) + " / (pipeline " + str(p.pipeline) +
                      " x virtual_stages " + str(p.virtual_stages) + ")); valid: 1 to " +
                      str(blocks) + " (" +
                      (t.recompute_method == "uniform" ? "blocks a group holds"
                                                       : "blocks of each chunk recomputed") +
                      ")");
    }
  }
  if (run.recompute.granularity == RecomputeGranularity::selective && run.registry &&
      ctx.valid("parallel.tensor_mode")) {
    const std::string& family = ctx.config().parallel.tensor_mode;
    bool recomputes = false;
    try {
      recomputes = run.registry->recomputes_attention(family);
    } catch (const PluginError&) {
      return;  // an unknown family is reported against parallel.tensor_mode
    }
    if (!recomputes) {
      ctx.problem("train.recompute",
                  "selective recomputation is the layer family's to run, and the layers plugin \"" +
                      family +
                      "\" (parallel.tensor_mode) does not recompute attention (its descriptor's "
                      "recomputes_attention, ABI 2.2, is not set); valid: recompute = \"full\" "
                      "(core runs it for any family) or \"none\", or a tensor_mode whose "
                      "family recomputes attention (1d, seq and 2d do)");
    }
  }
}

}  // namespace trellis
