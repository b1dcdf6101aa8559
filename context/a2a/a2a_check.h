// What the a2a mode refuses before any rank starts: heads that cannot be dealt out whole to the
// tensor x context ranks (each tensor rank's heads are split again over the context group).
#pragma once

#include <vector>

#include "trellis/config.h"

namespace trellis::context {

std::vector<ConfigProblem> check_a2a_run(const RunQuery& query);

}  // namespace trellis::context
