#include "replicated_tokens.h"

#include "collectives.h"

namespace trellis::tp1d {

Tensor ReplicatedTokens::reduce(const Tensor& partial) {
  layers::all_reduce_sum(tensor_, partial);
  return partial;
}

}  // namespace trellis::tp1d
