// The sizes of the layout: the world, and how tensor x context x data x pipeline fill it.
#include <charconv>
#include <string>

#include "config/layout_checks.h"
#include "config/layout_hints.h"

namespace trellis {

namespace {

constexpr std::int64_t kMaxRanks = 1 << 20;

std::string str(std::int64_t v) {
  return std::to_string(v);
}

}  // namespace

std::optional<WorldSize> check_world_size(CheckContext& ctx, const RunEnvironment& env) {
  if (env.launcher_world) {
    const EnvSetting& var = *env.launcher_world;
    const Origin origin = Origin::from_environment(var.text());
    std::int64_t size = 0;
    const char* end = var.value.data() + var.value.size();
    auto [ptr, ec] = std::from_chars(var.value.data(), end, size);
    if (ec != std::errc() || ptr != end || size < 1 || size > kMaxRanks) {
      ctx.problem_at(origin,
                     "the launcher's world size is not a number of ranks; valid: an "
                     "integer from 1 to " +
                         str(kMaxRanks));
      return std::nullopt;
    }
    return WorldSize{size, var.name, origin};
  }
  if (!ctx.valid("launch.nproc")) return std::nullopt;
  const Origin origin = ctx.origin("launch.nproc");
  return WorldSize{ctx.config().launch.nproc,
                   origin.explicit_value() ? "launch.nproc" : "launch.nproc, default", origin};
}

std::optional<std::int64_t> check_data_size(CheckContext& ctx, const RunEnvironment& env,
                                            const WorldSize& world) {
  const ParallelSection& p = ctx.config().parallel;
  if (!ctx.valid({"parallel.tensor", "parallel.context", "parallel.pipeline", "parallel.data"}))
    return std::nullopt;
  const std::int64_t model_ranks = p.tensor * p.context * p.pipeline;
  const std::string product = "tensor " + str(p.tensor) + " x context " + str(p.context) +
                              " x pipeline " + str(p.pipeline) + " = " + str(model_ranks);
  const std::string world_text = "world size " + str(world.size) + " (" + world.source + ")";
  if (p.data == -1) {
    if (world.size % model_ranks != 0) {
      const std::string message =
          world_text + " is not divisible by " + product +
          "; valid: a world size that is a "
          "multiple of " +
          str(model_ranks) + " (e.g. " + multiples_near(world.size, model_ranks) +
          "), or tensor x context x pipeline "
          "dividing " +
          str(world.size) + " (" + divisors_near(world.size, model_ranks) + ")";
      const std::string key =
          ctx.blame({"parallel.tensor", "parallel.pipeline", "parallel.context"});
      if (!ctx.explicit_value(key) && env.launcher_world) {
        ctx.problem_at(world.origin, message);
      } else {
        ctx.problem(ctx.explicit_value(key) ? key : "launch.nproc", message);
      }
      return std::nullopt;
    }
    Origin origin = ctx.origin("parallel.data");
    origin.note = "-1: world " + str(world.size) + " / " + str(model_ranks);
    ctx.set_origin("parallel.data", origin);
    return world.size / model_ranks;
  }
  if (model_ranks * p.data != world.size) {
    std::string valid =
        world.size % model_ranks == 0
            ? str(world.size / model_ranks) + ", or -1 for the rest"
            : "-1 for the rest, with a world size that is a multiple of " + str(model_ranks);
    ctx.problem("parallel.data", "tensor " + str(p.tensor) + " x context " + str(p.context) +
                                     " x data " + str(p.data) + " x pipeline " + str(p.pipeline) +
                                     " = " + str(model_ranks * p.data) +
                                     " ranks, but the world has " + str(world.size) + " (" +
                                     world.source + "); valid: " + valid);
    return std::nullopt;
  }
  return p.data;
}

}  // namespace trellis
