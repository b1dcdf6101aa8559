// AdamW over a set of parameters, as torch.optim.AdamW: per-parameter first and second moments,
// bias correction, decoupled weight decay on the parameters that ask for it (Parameter::
// weight_decay: matrices and embeddings, not biases and norms).
#pragma once

#include <vector>

#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

struct AdamWSettings {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

class AdamWOptimizer {
 public:
  AdamWOptimizer(std::vector<Parameter*> params, const AdamWSettings& settings, Kernels& kernels,
                 const std::shared_ptr<Allocator>& allocator);

  // One update with learning rate `lr`; steps count from 1 for bias correction.
  void step(float lr);
  int steps_taken() const noexcept { return step_; }
  // A resumed run continues the count its checkpoint saved.
  void set_steps_taken(int steps) noexcept { step_ = steps; }
  std::size_t state_bytes() const noexcept;

  // The first and second moments of each parameter, in the order given (for checkpoints).
  struct State {
    Parameter* param;
    Tensor m, v;
  };
  const std::vector<State>& states() const noexcept { return states_; }

 private:
  std::vector<State> states_;
  AdamWSettings settings_;
  Kernels& kernels_;
  int step_ = 0;
};

}  // namespace trellis
