// Initial values for [model] init = "random".
//
// Every element of every parameter is a pure function of (run seed, parameter name, the
// element's index in the whole parameter), so each rank computes just its shard and every
// layout starts from the same model without communication.
#pragma once

#include <cstdint>
#include <vector>

#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

// Each shard is drawn in host memory and copied into its tensor with `kernels` (which may be a
// GPU's).
void initialize_parameters(const std::vector<Parameter*>& params, std::uint64_t seed,
                           Kernels& kernels);

// The standard normal draw of element `index` of the stream `key` (exposed for tests).
float normal_draw(std::uint64_t key, std::uint64_t index);
std::uint64_t parameter_stream_key(std::uint64_t seed, const std::string& name);

}  // namespace trellis
