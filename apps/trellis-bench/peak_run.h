// `trellis-bench peak`: measures and caches the sgemm peak of one rank per thread count.
#pragma once

#include "peak_options.h"

namespace trellis::bench {

// Runs OpenBLAS's kernels as options.blas_core chooses (restarting the program with `argv` where
// needed, launch/openblas_reexec.h), then measures each thread count, prints the shapes' rates
// and writes the calibration. Returns the exit code; throws InputError for a bad --blas-core and
// Error when a calibration cannot be written.
int run_peak_bench(const PeakBenchOptions& options, char** argv);

}  // namespace trellis::bench
