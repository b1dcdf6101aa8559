#include "mpi_types.h"

#include <climits>
#include <string>

#include "trellis/error.h"
#include "trellis/reduce.h"

namespace trellis::mpi {

MPI_Datatype mpi_datatype(DType dtype) noexcept {
  return dtype == DType::i32 ? MPI_INT : MPI_FLOAT;
}

namespace {

// MPI's signature for a user operation: inout[i] = in[i] op inout[i]. Registered as commutative:
// reduce_elements() gives the same bits in either order.
void f32_max(void* in, void* inout, int* count, MPI_Datatype*) {
  reduce_elements(ReduceOp::max, DType::f32, inout, in, inout, *count);
}

void f32_min(void* in, void* inout, int* count, MPI_Datatype*) {
  reduce_elements(ReduceOp::min, DType::f32, inout, in, inout, *count);
}

}  // namespace

MPI_Op make_f32_op(ReduceOp op) {
  MPI_Op made = MPI_OP_NULL;
  const int code = MPI_Op_create(op == ReduceOp::max ? &f32_max : &f32_min, 1, &made);
  if (code != MPI_SUCCESS) {
    throw CommError("backend mpi: MPI_Op_create for the f32 " + std::string(reduce_op_name(op)) +
                    " failed (MPI error " + std::to_string(code) + ")");
  }
  return made;
}

MPI_Op mpi_reduce_op(ReduceOp op, DType dtype, const MpiWorld& world) noexcept {
  const bool f32 = dtype == DType::f32;
  switch (op) {
    case ReduceOp::max:
      return f32 ? world.f32_max() : MPI_MAX;
    case ReduceOp::min:
      return f32 ? world.f32_min() : MPI_MIN;
    case ReduceOp::sum:
    case ReduceOp::avg:
      return MPI_SUM;
  }
  return MPI_SUM;
}

void check_mpi_count(OpKind op, const char* role, const Tensor& tensor) {
  if (tensor.numel() <= INT_MAX) return;
  throw Error(std::string("backend mpi: ") + op_kind_name(op) + ": " + role + " has " +
              std::to_string(tensor.numel()) + " elements; MPI counts stop at " +
              std::to_string(INT_MAX) + ": split the operation");
}

}  // namespace trellis::mpi
