#include "data_parallel/adamw_optimizer.h"

namespace trellis {

AdamWOptimizer::AdamWOptimizer(std::vector<Parameter*> params, const AdamWSettings& settings,
                               Kernels& kernels, const std::shared_ptr<Allocator>& allocator)
    : settings_(settings), kernels_(kernels) {
  for (Parameter* p : params) {
    State s{p, Tensor::empty(p->value.shape(), DType::f32, allocator),
            Tensor::empty(p->value.shape(), DType::f32, allocator)};
    kernels_.fill(s.m, 0.0f);
    kernels_.fill(s.v, 0.0f);
    states_.push_back(std::move(s));
  }
}

void AdamWOptimizer::step(float lr) {
  ++step_;
  for (State& s : states_) {
    AdamWStep update{lr,
                     settings_.beta1,
                     settings_.beta2,
                     settings_.eps,
                     s.param->weight_decay ? settings_.weight_decay : 0.0f,
                     step_};
    kernels_.adamw(s.param->value, s.param->grad, s.m, s.v, update);
  }
}

std::size_t AdamWOptimizer::state_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const State& s : states_) bytes += s.m.nbytes() + s.v.nbytes();
  return bytes;
}

}  // namespace trellis
