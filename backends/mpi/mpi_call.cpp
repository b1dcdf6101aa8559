#include "mpi_call.h"

#include "trellis/error.h"

namespace trellis::mpi {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    return "MPI error code " + std::to_string(code);
  }
  return std::string(text, static_cast<std::size_t>(length));
}

void throw_mpi_error(int code, const char* call, const std::string& doing) {
  throw CommError(std::string("backend mpi: ") + call + " failed (" + doing +
                  "): " + mpi_error_text(code));
}

}  // namespace trellis::mpi
