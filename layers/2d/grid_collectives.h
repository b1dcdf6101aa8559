// The collectives of the 2d family over a grid row or column, waited for at once. A null group is
// a group of one (q = 1): broadcasts do nothing, reductions copy.
#pragma once

#include "trellis/comm.h"
#include "trellis/kernels.h"

namespace trellis::tp2d {

// buffer = root's buffer.
void broadcast(Communicator* group, const Tensor& buffer, int root);
// The same, started: wait on the result (null when there is nothing to wait for).
WorkPtr start_broadcast(Communicator* group, const Tensor& buffer, int root);
void wait(const WorkPtr& work);
// On root, output = sum over the group of input (output may be input); elsewhere not written.
void reduce_sum(Communicator* group, Kernels& kernels, const Tensor& input, const Tensor& output,
                int root);
void all_reduce(Communicator* group, const Tensor& t, ReduceOp op);
// output = the group's inputs, concatenated in group order.
void all_gather(Communicator* group, Kernels& kernels, const Tensor& input, const Tensor& output);
// output = chunk rank() of the sum over the group of input.
void reduce_scatter_sum(Communicator* group, Kernels& kernels, const Tensor& input,
                        const Tensor& output);
// The group's size and this rank's index in it (1 and 0 for a null group).
int group_size(const Communicator* group);
int group_rank(const Communicator* group);

}  // namespace trellis::tp2d
