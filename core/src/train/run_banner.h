// The lines world rank 0 prints before the first step: the run and its layout, the model, the
// training data, the batch split, the OpenBLAS kernels (cpu) and the MFU peak.
#pragma once

#include <cstdio>
#include <string>

#include "config/resolved_run.h"
#include "dataset/token_dataset.h"
#include "train/mfu_peak.h"

namespace trellis {

struct RunBannerFacts {
  std::string device_description;            // ComputeDevice::description
  std::string comm_backends;                 // group_backends_text of the rank's groups
  const TokenDataset* train_data = nullptr;  // null on a rank that does not read it
  std::string blas_line;                     // empty: no "blas:" line (not the cpu device)
  const MfuPeak* mfu_peak = nullptr;
};

void print_run_banner(std::FILE* console, const ResolvedRun& run, const RunBannerFacts& facts);

}  // namespace trellis
