// Address exchange: how the ranks of a new world learn each other's UCX worker addresses.
//
// Every rank publishes what its peers need to reach it (its UCX worker address, and who it is:
// see Engine) in the run's Store and reads every other rank's back.
// Keys are namespaced per world, so two worlds made on one store (one after the other, or
// several in one process) never read each other's addresses:
//
//   trellis/ucx/joins/<rank>                     counter: how many ucx worlds this rank has joined
//   trellis/ucx/world-<g>-of-<n>/address/<rank>  what <rank> published for its g-th world
//
// Ranks make their worlds in the same order (world creation is collective), so the g-th world of
// every rank is the same world.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "trellis/store.h"

namespace trellis::ucx {

// Publishes `my_address` for `rank` and returns all `world_size` of them, indexed by rank.
// Waits at most `timeout` in total; throws TimeoutError naming the ranks whose address never
// appeared.
std::vector<std::string> exchange_addresses(Store& store, int rank, int world_size,
                                            const std::string& my_address,
                                            std::chrono::milliseconds timeout);

}  // namespace trellis::ucx
