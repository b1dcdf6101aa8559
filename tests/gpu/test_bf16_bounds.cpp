// The bf16 checks of the GPU tests, tested where there is no GPU: on the CPU's emulation of bf16
// mixed precision (bf16_emulation.h) every bound holds — the bounds are not too tight for the
// arithmetic they describe — and with a fault put into the emulated device each check fails —
// they can catch what they are for: a wrong learning rate, a gradient term left out, products
// not in bf16.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "bf16_emulation.h"
#include "bf16_kernel_cases.h"
#include "bf16_training_check.h"
#include "forwarding_kernels.h"
#include "kernels/cpu/cpu_kernels.h"

using namespace trellis;
using namespace trellis::gpu_test;

namespace {

std::shared_ptr<Kernels> emulation() {
  return make_bf16_emulating_kernels(make_cpu_kernels(1));
}

// AdamW with its learning rate 10% too large.
class WrongLearningRate final : public ForwardingKernels {
 public:
  using ForwardingKernels::ForwardingKernels;
  void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
             const AdamWStep& step) override {
    AdamWStep wrong = step;
    wrong.lr *= 1.1f;
    inner().adamw(param, grad, m, v, wrong);
  }
};

// linear_backward leaves out the bias gradient.
class NoBiasGradient final : public ForwardingKernels {
 public:
  using ForwardingKernels::ForwardingKernels;
  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor&) override {
    inner().linear_backward(dout, x, w, dx, dw, Tensor());
  }
};

// attention_backward leaves out the values' gradient (dv = 0).
class NoValueGradient final : public ForwardingKernels {
 public:
  using ForwardingKernels::ForwardingKernels;
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    inner().attention_backward(dout, qkv, probs, heads, dqkv);
    const std::int64_t C = qkv.size(2) / 3, rows = qkv.size(0) * qkv.size(1);
    float* d = dqkv.data<float>();
    for (std::int64_t r = 0; r < rows; ++r)
      std::memset(d + r * 3 * C + 2 * C, 0, C * sizeof(float));
  }
};

// matmul overwrites its output instead of adding beta times it.
class MatmulIgnoresBeta final : public ForwardingKernels {
 public:
  using ForwardingKernels::ForwardingKernels;
  void matmul(const Tensor& a, bool ta, const Tensor& b, bool tb, const Tensor& out, float alpha,
              float) override {
    inner().matmul(a, ta, b, tb, out, alpha, 0.0f);
  }
};

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

}  // namespace

TEST_CASE("round_to_bf16 rounds to nearest, ties to even, as __float2bfloat16_rn") {
  CHECK(round_to_bf16(1.0f) == 1.0f);
  CHECK(round_to_bf16(1.0f + 0x1p-8f) == 1.0f);                       // tie: to the even 1.0
  CHECK(round_to_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);         // tie: to the even 1 + 2^-6
  CHECK(round_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);  // above the tie
  CHECK(round_to_bf16(-3.0f - 0x1p-9f) == -3.0f);
  CHECK(round_to_bf16(0x1p-130f) == 0x1p-130f);  // subnormals keep their leading bits
  CHECK(std::isinf(round_to_bf16(std::numeric_limits<float>::max())));
  CHECK(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("every bf16 kernel bound holds for the emulated bf16 device") {
  Devices d(emulation());
  CHECK_MESSAGE(bf16_matmul_cases(d).empty(), joined(bf16_matmul_cases(d)));
  CHECK_MESSAGE(bf16_rounded_operand_cases(d).empty(), joined(bf16_rounded_operand_cases(d)));
  CHECK_MESSAGE(bf16_linear_cases(d).empty(), joined(bf16_linear_cases(d)));
  CHECK_MESSAGE(bf16_attention_cases(d).empty(), joined(bf16_attention_cases(d)));
}

TEST_CASE("the bf16 kernel checks fail for a device with a fault") {
  SUBCASE("fp32 products (no bf16 rounding)") {
    Devices d(make_cpu_kernels(1));
    CHECK(!bf16_rounded_operand_cases(d).empty());
    CHECK(bf16_matmul_cases(d).empty());  // fp32 is within the bf16 bound, as it should be
  }
  SUBCASE("matmul ignoring beta") {
    Devices d(std::make_shared<MatmulIgnoresBeta>(emulation()));
    CHECK(bf16_matmul_cases(d).size() == 4);
  }
  SUBCASE("linear_backward without the bias gradient") {
    Devices d(std::make_shared<NoBiasGradient>(emulation()));
    const std::vector<std::string> failures = bf16_linear_cases(d);
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("linear_backward db") == 0);
  }
  SUBCASE("attention_backward without the values' gradient") {
    Devices d(std::make_shared<NoValueGradient>(emulation()));
    const std::vector<std::string> failures = bf16_attention_cases(d);
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("attention_backward dqkv") == 0);
  }
}

TEST_CASE("the bf16 training check holds for the emulated bf16 device") {
  Devices d(emulation());
  const TrainingCheckResult result = check_bf16_training(d, 3, 3e-3f);
  for (const std::string& line : result.figures) std::printf("%s\n", line.c_str());
  CHECK_MESSAGE(result.failures.empty(), joined(result.failures));
}

TEST_CASE("the bf16 training check fails for a wrong learning rate or a missing gradient term") {
  SUBCASE("learning rate 10% too large: the movement check") {
    Devices d(std::make_shared<WrongLearningRate>(emulation()));
    const TrainingCheckResult result = check_bf16_training(d, 1, 3e-3f);
    REQUIRE(!result.failures.empty());
    for (const std::string& failure : result.failures) {
      CHECK(failure.find("step 1: movement ") == 0);
    }
  }
  SUBCASE("the bias gradients left out: the product checks") {
    Devices d(std::make_shared<NoBiasGradient>(emulation()));
    const TrainingCheckResult result = check_bf16_training(d, 1, 3e-3f);
    REQUIRE(!result.failures.empty());
    CHECK(result.failures[0].find("step 1: linear_backward #") == 0);
  }
  SUBCASE("the values' gradient left out: the product checks") {
    Devices d(std::make_shared<NoValueGradient>(emulation()));
    const TrainingCheckResult result = check_bf16_training(d, 1, 3e-3f);
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].find("step 1: attention_backward #") == 0);
  }
}
