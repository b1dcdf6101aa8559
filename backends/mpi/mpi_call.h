// Turning MPI return codes into Trellis errors.
//
// Every communicator the backend makes uses MPI_ERRORS_RETURN, so a failing MPI call comes back
// here as a code instead of aborting the job. The message names the MPI call, what Trellis was
// doing (operation and group, built only when something failed) and MPI's own text for the code.
#pragma once

#include <mpi.h>

#include <string>

namespace trellis::mpi {

// MPI's text for an error code (MPI_Error_string), e.g. "MPI_ERR_TRUNCATE: message truncated".
std::string mpi_error_text(int code);

// Throws CommError("backend mpi: <call> failed (<doing>): <MPI's text>").
[[noreturn]] void throw_mpi_error(int code, const char* call, const std::string& doing);

// Checks the return code of `call`; `doing` is a callable giving the operation and group for the
// message, so nothing is formatted on success.
template <class Describe>
void check_mpi(int code, const char* call, const Describe& doing) {
  if (code != MPI_SUCCESS) throw_mpi_error(code, call, doing());
}

}  // namespace trellis::mpi
