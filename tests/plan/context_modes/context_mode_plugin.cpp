// The descriptor of one of the planner's test context modes (see CMakeLists.txt): a cost
// description from context/<mode>/ under a test name, and the a2a mode's rule on heads. The
// factory refuses: these plugins exist to be planned, not trained.
#include <string>
#include <vector>

#include "trellis/error.h"
#include "trellis/plugin.h"

#if defined(CONTEXT_MODE_RING)
#include "ring/ring_cost.h"
#define CONTEXT_MODE_COST &trellis::ring::describe_cost
#elif defined(CONTEXT_MODE_A2A)
#include "a2a/a2a_cost.h"
#define CONTEXT_MODE_COST &trellis::a2a::describe_cost
#elif defined(CONTEXT_MODE_ALLGATHER)
#include "allgather/allgather_cost.h"
#define CONTEXT_MODE_COST &trellis::allgather::describe_cost
#else
#define CONTEXT_MODE_COST nullptr
#endif

namespace {

std::unique_ptr<trellis::ContextAttention> make(const trellis::ContextInit&) {
  throw trellis::InputError(std::string("context mode '") + CONTEXT_MODE_NAME +
                            "' is one of trellis-plan's test plugins: it describes a cost, it "
                            "computes no attention");
}

// Ulysses gives each context rank whole heads: heads % (tensor x context) == 0.
std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& q) {
#if defined(CONTEXT_MODE_A2A)
  const std::int64_t ranks = static_cast<std::int64_t>(q.sizes.tensor) * q.sizes.context;
  if (q.dims.heads % ranks != 0) {
    return {{"parallel.context", "all-to-all attention gives each rank whole heads: heads " +
                                     std::to_string(q.dims.heads) +
                                     " do not split over tensor x "
                                     "context = " +
                                     std::to_string(ranks) +
                                     " ranks; valid: a context size with heads % (tensor x "
                                     "context) == 0"}};
  }
#else
  (void)q;
#endif
  return {};
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::context,
    .name = CONTEXT_MODE_NAME,
    .version = "0.1.0",
    .summary = "a context mode's cost for trellis-plan's tests (computes no attention)",
    .make_comm = nullptr,
    .make_layers = nullptr,
    .make_schedule = nullptr,
    .check = &check,
    .options = nullptr,
    .option_count = 0,
    .launch = trellis::LaunchNeed::any,
    .describe_cost = nullptr,
    .make_context = &make,
    .describe_context_cost = CONTEXT_MODE_COST,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
