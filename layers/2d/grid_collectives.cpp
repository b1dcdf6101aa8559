#include "grid_collectives.h"

namespace trellis::tp2d {

namespace {

bool alone(const Communicator* group) {
  return group == nullptr || group->size() == 1;
}

}  // namespace

void broadcast(Communicator* group, const Tensor& buffer, int root) {
  if (alone(group)) return;
  group->broadcast(buffer, root)->wait();
}

WorkPtr start_broadcast(Communicator* group, const Tensor& buffer, int root) {
  if (alone(group)) return nullptr;
  return group->broadcast(buffer, root);
}

void wait(const WorkPtr& work) {
  if (work) work->wait();
}

void reduce_sum(Communicator* group, Kernels& kernels, const Tensor& input, const Tensor& output,
                int root) {
  if (alone(group)) {
    if (input.data_ptr() != output.data_ptr()) kernels.copy(input, output);
    return;
  }
  group->reduce(input, group->rank() == root ? output : input, ReduceOp::sum, root)->wait();
}

void all_reduce(Communicator* group, const Tensor& t, ReduceOp op) {
  if (alone(group)) return;
  group->all_reduce(t, t, op)->wait();
}

void all_gather(Communicator* group, Kernels& kernels, const Tensor& input, const Tensor& output) {
  if (alone(group)) {
    kernels.copy(input, output);
    return;
  }
  group->all_gather(input, output)->wait();
}

void reduce_scatter_sum(Communicator* group, Kernels& kernels, const Tensor& input,
                        const Tensor& output) {
  if (alone(group)) {
    kernels.copy(input, output);
    return;
  }
  group->reduce_scatter(input, output, ReduceOp::sum)->wait();
}

int group_size(const Communicator* group) {
  return group ? group->size() : 1;
}

int group_rank(const Communicator* group) {
  return group ? group->rank() : 0;
}

}  // namespace trellis::tp2d
