// A few training steps of TinyGpt (a one-block GPT-2 written with the kernels, tiny_gpt.h) on the
// CPU and on the GPU from the same initial parameters and batches:
// - fp32: the losses, gradient norms and updated parameters agree up to summation order;
// - bf16 mixed precision: each step, from the CPU's state, checked within derived bounds — every
//   product against the CPU on the same inputs, the loss against the fp32 loss, and every
//   parameter's movement against the fp32 movement (bf16_training_check.h, where the bounds are
//   derived; test_bf16_bounds shows that a wrong learning rate or a missing gradient term fails
//   them).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "bf16_training_check.h"
#include "gpu_pair.h"
#include "tiny_gpt.h"

using namespace trellis;
using trellis::gpu_test::Devices;
using trellis::gpu_test::Pair;
using trellis::gpu_test::TinyGpt;

TEST_CASE("three training steps agree on the CPU and the GPU (fp32)") {
  Devices d(CudaPrecision::f32);
  TinyGpt model(d);
  for (int s = 1; s <= 3; ++s) {
    const Pair tokens = d.tokens({TinyGpt::kBatch, TinyGpt::kSeq}, 200 + s, TinyGpt::kVocab);
    const Pair targets = d.tokens({TinyGpt::kRows}, 300 + s, TinyGpt::kVocab);
    // eps 1e-5, not 1e-8: the gradient of the key bias (qkv.b[C, 2C)) is zero in exact
    // arithmetic (a softmax does not change when every score of a row moves by the same q.b), so
    // both devices compute rounding noise there (~1e-9), of either sign. AdamW turns a gradient g
    // into a step of lr * g / (|g| + eps): with eps 1e-8 that is a step of up to lr of an
    // arbitrary sign, and the two devices' parameters drift apart by ~1e-3, ten times the
    // tolerance (seen on the CPU alone between thread counts, which only reorder sums). With
    // 1e-5, noise of 1e-9 moves a parameter by 3e-7 a step, while gradients well above 1e-5
    // still take nearly full steps. (The bf16 check bounds each element's movement by its own
    // gradients' difference instead, so it keeps 1e-8.)
    const AdamWStep optim{3e-3f, 0.9f, 0.95f, 1e-5f, 0.1f, s};
    const TinyGpt::Figures cpu = model.step(TinyGpt::Side::cpu, tokens, targets, optim);
    const TinyGpt::Figures gpu = model.step(TinyGpt::Side::device, tokens, targets, optim);
    CAPTURE(s);
    CHECK(gpu.loss == doctest::Approx(cpu.loss).epsilon(1e-5));
    CHECK(gpu.grad_norm == doctest::Approx(cpu.grad_norm).epsilon(1e-4));
  }
  for (const TinyGpt::Param& p : model.params()) {
    const std::string wrong = d.compare(p.value, 1e-4);
    CHECK_MESSAGE(wrong.empty(), p.name << ": " << wrong);
  }
}

TEST_CASE("bf16 training steps stay within their bounds of fp32 on the CPU") {
  Devices d(CudaPrecision::bf16);
  const trellis::gpu_test::TrainingCheckResult result =
      trellis::gpu_test::check_bf16_training(d, 3, 3e-3f);
  for (const std::string& line : result.figures) std::printf("bf16 training %s\n", line.c_str());
  for (const std::string& failure : result.failures) FAIL_CHECK(failure);
}
