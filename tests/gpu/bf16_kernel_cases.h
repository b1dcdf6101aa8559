// The kernels whose numerics depend on the precision — the matrix products: matmul, linear
// forward and backward, attention forward and backward — run on the CPU and on a bf16 device on
// the same inputs, each output element compared within its bound (bf16_bounds.h). Each function
// returns one line per output outside its bound (empty: all within).
//
// test_cuda_kernels runs them on the GPU; test_bf16_bounds runs them on the bf16 emulation
// (they must pass) and on emulations with a fault (they must fail).
#pragma once

#include <string>
#include <vector>

#include "gpu_pair.h"

namespace trellis::gpu_test {

// Every transpose, rows strided, alpha 0.75 and beta 0.5.
std::vector<std::string> bf16_matmul_cases(Devices& d);
// Products are of the operands rounded to bf16: the device's matmul against the sum of the
// rounded operands' products in double, within the accumulation's error alone (far below the
// rounding's 2^-8): fails for a device that multiplies fp32 operands (or rounds them otherwise).
std::vector<std::string> bf16_rounded_operand_cases(Devices& d);
std::vector<std::string> bf16_linear_cases(Devices& d);
std::vector<std::string> bf16_attention_cases(Devices& d);

}  // namespace trellis::gpu_test
