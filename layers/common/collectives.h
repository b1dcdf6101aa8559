// The collective calls the layers make directly, outside TokenRegion: they do nothing for a group
// of one rank, so a family runs unchanged at tensor size 1.
#pragma once

#include "trellis/comm.h"

namespace trellis::layers {

// t = the sum of t over the group, in place.
void all_reduce_sum(Communicator* group, const Tensor& t);

}  // namespace trellis::layers
