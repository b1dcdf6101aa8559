// The matrix-product rate one rank reaches: the peak MFU is measured against, when neither
// [device] peak_gflops nor a calibration gives it (train/mfu_peak.h), and what `trellis-bench
// peak` caches (device/peak_calibration.h).
//
// The products go through Kernels::matmul, the path every product of training takes (on the CPU:
// the rank's OpenMP threads over single-threaded OpenBLAS sgemm), at a square size and at the
// shapes of a GPT-2 block's products (768 channels, `size` tokens): the MLP's two products and a
// weight gradient (the transposed operand). Each shape gets an equal share of the time: a warm-up
// (page faults, thread start-up, clock ramp-up), then batches of products of at least 50 ms; a
// shape's rate is its best batch (a batch averages over many products, so the rate is sustained;
// the best one is the one least disturbed by other processes). The peak is the best shape's rate.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

struct SgemmShape {
  std::string name;  // "square 1024", "mlp up [1024,768]x[768,3072]", ...
  std::int64_t m = 0, k = 0, n = 0;
  bool transpose_a = false;  // A is stored [k, m] (a weight gradient's activations)
  double flops() const {
    return 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  }
};

struct SgemmRate {
  SgemmShape shape;
  double flops_per_s = 0.0;
  std::int64_t products = 0;  // products timed (warm-up excluded)
};

struct SgemmPeak {
  std::vector<SgemmRate> rates;  // per shape, in the order of sgemm_peak_shapes
  double flops_per_s = 0.0;      // the best of them
  double seconds = 0.0;          // the time measured, warm-ups included
};

// The shapes measured: square `size`, and a GPT-2 block's MLP products and weight gradient for
// `size` tokens. 1024 on the CPU, 4096 on a GPU.
std::vector<SgemmShape> sgemm_peak_shapes(int size);

// Measures every shape for about `seconds` in all (at least one batch each).
SgemmPeak measure_sgemm_peak(Kernels& kernels, const std::shared_ptr<Allocator>& allocator,
                             double seconds, int size = 1024);

}  // namespace trellis
