// What all-to-all (Ulysses) context attention costs (trellis/context_cost.h), for trellis-plan:
// sequence shards traded for head shards before attention and back after.
#pragma once

#include "trellis/context_cost.h"

namespace trellis::a2a {

ContextCost describe_cost(const ContextCostQuery& query);

}  // namespace trellis::a2a
