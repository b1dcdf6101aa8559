// Trellis's types as MPI's, and the one limit MPI adds to comm.h's argument checks.
//
// Communicator's public operations have checked the tensors (comm.h) before the backend sees
// them; what is left here is MPI's own: counts are int.
#pragma once

#include <mpi.h>

#include "mpi_world.h"
#include "operation.h"
#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

// MPI_FLOAT for f32, MPI_INT for i32 (the only types the backend moves).
MPI_Datatype mpi_datatype(DType dtype) noexcept;
// The MPI_Op of `op` over `dtype`: MPI_SUM (avg is a sum divided by the group size on
// completion); MPI_MAX and MPI_MIN for i32; for f32 max and min, `world`'s operations built on
// trellis/reduce.h. Open MPI's MPI_MAX compares with C's >, so whether NaN survives depends on
// which operand it is; with ours NaN propagates as on every other backend.
MPI_Op mpi_reduce_op(ReduceOp op, DType dtype, const MpiWorld& world) noexcept;

// User-defined MPI operations (MPI_Op_create) that combine f32 with reduce_elements().
MPI_Op make_f32_op(ReduceOp op);

// Throws Error when `tensor` has more elements than an MPI count (int) holds.
void check_mpi_count(OpKind op, const char* role, const Tensor& tensor);

}  // namespace trellis::mpi
