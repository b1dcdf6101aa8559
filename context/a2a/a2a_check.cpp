#include "a2a_check.h"

#include <string>

namespace trellis::context {

namespace {

// "1, 2, 4": the context sizes that deal `heads_per_tensor_rank` heads out whole.
std::string valid_contexts(std::int64_t heads_per_tensor_rank) {
  std::string list;
  for (std::int64_t c = 1; c <= heads_per_tensor_rank; ++c) {
    if (heads_per_tensor_rank % c != 0) continue;
    list += (list.empty() ? "" : ", ") + std::to_string(c);
  }
  return list;
}

}  // namespace

std::vector<ConfigProblem> check_a2a_run(const RunQuery& query) {
  std::vector<ConfigProblem> problems;
  const std::int64_t heads = query.dims.heads;
  const int tensor = query.sizes.tensor, context = query.sizes.context;
  if (tensor < 1 || context < 1 || heads < 1) return problems;
  const std::int64_t ranks = std::int64_t{tensor} * context;
  if (heads % ranks == 0) return problems;
  std::string valid;
  if (heads % tensor == 0) {
    valid = "with tensor = " + std::to_string(tensor) + ", context can be one of " +
            valid_contexts(heads / tensor);
  } else {
    valid = "tensor x context must divide " + std::to_string(heads);
  }
  problems.push_back(
      {"parallel.context",
       "context_mode a2a deals each tensor rank's heads out to the context group, so model.heads "
       "must be a multiple of tensor x context: model.heads = " +
           std::to_string(heads) + " is not a multiple of tensor (" + std::to_string(tensor) +
           ") x context (" + std::to_string(context) + ") = " + std::to_string(ranks) + "; " +
           valid + " (or choose context_mode ring or allgather)"});
  return problems;
}

}  // namespace trellis::context
