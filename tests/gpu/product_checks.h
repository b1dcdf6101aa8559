// Every matrix product of a bf16 training step checked where it happens: the device's kernel runs
// on its own inputs, the CPU kernel on copies of the same inputs, and each output element must
// agree within its bound (bf16_bounds.h). In bf16 mixed precision only the products differ from
// fp32 (every other kernel is the fp32 one, which the fp32 checks compare with the CPU), so a step
// whose every product passes is the bf16 step, computed right: a term left out of a product's
// gradient, a wrong transpose, stride or scale, an accumulation that overwrites, all fail here.
#pragma once

#include <string>
#include <vector>

#include "gpu_pair.h"

namespace trellis::gpu_test {

class ProductChecks {
 public:
  explicit ProductChecks(Devices& devices) : d_(devices) {}

  // Each runs the device's kernel (same arguments as Kernels') and checks its outputs.
  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out);
  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db);
  void attention_forward(const Tensor& qkv, int heads, const Tensor& out, const Tensor& probs);
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv);

  // "kernel #call output: what is wrong", one per output outside its bound.
  const std::vector<std::string>& failures() const { return failures_; }
  int outputs_checked() const { return outputs_checked_; }

 private:
  void expect(const char* kernel, const char* output, const Tensor& cpu, const Tensor& device,
              const std::vector<double>& bound);

  Devices& d_;
  int calls_ = 0;
  int outputs_checked_ = 0;
  std::vector<std::string> failures_;
};

}  // namespace trellis::gpu_test
