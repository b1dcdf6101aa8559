// Which OpenBLAS this process loaded and which kernel set it runs: asked of the library itself,
// so this file (and not openblas_core.cpp, which the config check and its fuzzing harness use
// without OpenBLAS) is what links against it.
#pragma once

#include <string>

namespace trellis {

// The OpenBLAS this process loaded.
struct LoadedOpenBlas {
  std::string core;     // openblas_get_corename(): the kernel set it runs
  std::string version;  // "OpenBLAS 0.3.21"
  bool dynamic_arch;    // built with DYNAMIC_ARCH: OPENBLAS_CORETYPE can choose the kernels
  static LoadedOpenBlas of_this_process();
};

}  // namespace trellis
