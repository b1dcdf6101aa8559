// The CUDA device's bf16 mixed precision, emulated on the CPU: the CPU kernels, except that the
// operands of every matrix product (matmul, linear forward and backward, attention's four
// products) are rounded to bf16 (round to nearest, ties to even, as __float2bfloat16_rn) before
// an fp32 product. A product of two bf16 values is exact in fp32, so this is the arithmetic the
// tensor cores do, up to the order of the fp32 additions.
//
// It exists to test the bf16 checks themselves on machines without a GPU: the bounds the GPU
// tests use must hold for it (they are not too tight), and must fail for it once a fault is put
// in (they can fail).
#pragma once

#include <memory>

#include "trellis/kernels.h"

namespace trellis::gpu_test {

// The float that `x` rounds to in bf16 (8 significant bits; inf and NaN stay as they are).
float round_to_bf16(float x);

// Host tensors; products as described above, everything else `cpu`'s.
std::shared_ptr<Kernels> make_bf16_emulating_kernels(std::shared_ptr<Kernels> cpu);

}  // namespace trellis::gpu_test
