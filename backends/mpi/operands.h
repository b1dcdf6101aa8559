// The tensors an operation is given: the checks comm.h promises, and Trellis types as MPI's.
//
// A wrong tensor is a bug in the caller, reported as trellis::Error with the operation, the role
// of the tensor ("input", "output") and what was expected. bf16 and avg over i32 are valid
// requests this backend cannot serve: UnsupportedError.
#pragma once

#include <mpi.h>

#include <cstdint>

#include "operation.h"
#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

// MPI_FLOAT for f32, MPI_INT for i32 (the only types check_operand lets through).
MPI_Datatype mpi_datatype(DType dtype) noexcept;
// MPI_SUM, MPI_MAX, MPI_MIN; avg is a sum divided by the group size on completion.
MPI_Op mpi_reduce_op(ReduceOp op) noexcept;

// `tensor` must be defined, contiguous, on `device`, f32 or i32, with at most INT_MAX elements
// (MPI counts are int). `role` names it in the message: "input", "output", "buffer".
void check_operand(OpKind op, const char* role, const Tensor& tensor, Device device);
// avg is a division after the sum: f32 only.
void check_reduce_op(OpKind op, ReduceOp reduce_op, DType dtype);
void check_same_dtype(OpKind op, const Tensor& input, const Tensor& output);
// `tensor` must have `expected` elements; `rule` says why ("size() x input elements").
void check_count(OpKind op, const char* role, const Tensor& tensor, std::int64_t expected,
                 const char* rule);

// How the memory of two operands relates: in-place operations pass the same tensor twice.
enum class Aliasing : std::uint8_t { separate, same, overlapping };
Aliasing aliasing(const Tensor& a, const Tensor& b) noexcept;
// Throws unless input and output are separate, or the same tensor where `same_allowed`;
// returns whether they are the same (the operation is in place).
bool check_aliasing(OpKind op, const Tensor& input, const Tensor& output, bool same_allowed);

}  // namespace trellis::mpi
