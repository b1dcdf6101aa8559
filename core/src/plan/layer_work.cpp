#include "plan/layer_work.h"

namespace trellis::plan {

ActionWork::ActionWork(const PassCost& pass)
    : flops(pass.flops), bytes(pass.bytes), comm(pass.collectives) {}

ActionWork& ActionWork::operator+=(const ActionWork& other) {
  flops += other.flops;
  bytes += other.bytes;
  comm.insert(comm.end(), other.comm.begin(), other.comm.end());
  return *this;
}

PassWork::PassWork(const PieceCost& piece)
    : forward(piece.forward),
      backward_input(piece.backward_input),
      backward_weight(piece.backward_weight) {}

PassWork& PassWork::operator+=(const PassWork& other) {
  forward += other.forward;
  backward_input += other.backward_input;
  backward_weight += other.backward_weight;
  return *this;
}

PassWork PassWork::scaled(double times) const {
  PassWork out = *this;
  for (ActionWork* w : {&out.forward, &out.backward_input, &out.backward_weight}) {
    w->flops *= times;
    w->bytes *= times;
    for (CommCall& c : w->comm) c.count *= times;
  }
  return out;
}

PassWork block_work(const LayerCost& cost, Recompute recompute) {
  PassWork p(cost.block);
  switch (recompute) {
    case Recompute::none:
      break;
    case Recompute::full:
      p.backward_input += p.forward;
      break;
    case Recompute::selective:
      p.backward_input.flops += cost.attention_core.flops;
      p.backward_input.bytes += cost.attention_core.bytes;
      break;
  }
  return p;
}

PassWork embedding_work(const LayerCost& cost) {
  return PassWork(cost.embedding);
}

PassWork head_work(const LayerCost& cost) {
  return PassWork(cost.head);
}

}  // namespace trellis::plan
