#include "device/loaded_openblas.h"

#include <cblas.h>

namespace trellis {

LoadedOpenBlas LoadedOpenBlas::of_this_process() {
  LoadedOpenBlas out;
  const char* core = openblas_get_corename();
  out.core = core ? core : "";
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"
  const std::string config = openblas_get_config() ? openblas_get_config() : "OpenBLAS";
  const std::size_t second_space = config.find(' ', config.find(' ') + 1);
  out.version = config.substr(0, second_space);
  out.dynamic_arch = config.find("DYNAMIC_ARCH") != std::string::npos;
  return out;
}

}  // namespace trellis
