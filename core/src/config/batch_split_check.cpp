// The global batch over data ranks and microbatches.
#include <string>

#include "config/layout_checks.h"
#include "config/layout_hints.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

}  // namespace

bool check_batch_split(CheckContext& ctx, std::optional<std::int64_t> data, ResolvedRun& run) {
  if (!data || !ctx.valid({"train.micro_batch", "train.global_batch"})) return false;
  const TrainSection& t = ctx.config().train;
  const std::int64_t per_round = t.micro_batch * *data;
  const std::string round = "micro_batch " + str(t.micro_batch) + " x data " + str(*data) + " = " +
                            str(per_round) + " sequences";
  if (t.global_batch < per_round) {
    ctx.problem(ctx.blame({"train.global_batch", "train.micro_batch"}),
                "global_batch " + str(t.global_batch) +
                    " is less than one microbatch on each "
                    "data rank (" +
                    round + "); valid: global_batch a multiple of " + str(per_round) +
                    ", or a smaller micro_batch");
    return false;
  }
  if (t.global_batch % per_round != 0) {
    ctx.problem(ctx.blame({"train.global_batch", "train.micro_batch"}),
                "global_batch " + str(t.global_batch) +
                    " does not split into whole "
                    "microbatches of " +
                    round + "; valid: global_batch a multiple of " + str(per_round) + " (e.g. " +
                    multiples_near(t.global_batch, per_round) +
                    "), or micro_batch x data dividing " + str(t.global_batch));
    return false;
  }
  run.microbatches = static_cast<int>(t.global_batch / per_round);
  return true;
}

}  // namespace trellis
