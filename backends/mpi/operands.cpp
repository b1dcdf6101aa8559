#include "operands.h"

#include <climits>
#include <string>

#include "trellis/error.h"

namespace trellis::mpi {

namespace {

[[noreturn]] void bad_operand(OpKind op, const std::string& what) {
  throw Error(std::string("backend mpi: ") + op_kind_name(op) + ": " + what);
}

}  // namespace

MPI_Datatype mpi_datatype(DType dtype) noexcept {
  return dtype == DType::i32 ? MPI_INT : MPI_FLOAT;
}

MPI_Op mpi_reduce_op(ReduceOp op) noexcept {
  switch (op) {
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
    case ReduceOp::sum:
    case ReduceOp::avg:
      return MPI_SUM;
  }
  return MPI_SUM;
}

void check_operand(OpKind op, const char* role, const Tensor& tensor, Device device) {
  if (!tensor.defined()) bad_operand(op, std::string(role) + " is an undefined tensor");
  if (tensor.dtype() == DType::bf16) {
    throw UnsupportedError(std::string("backend mpi does not support bf16 ") + op_kind_name(op) +
                           " (f32 and i32 only)");
  }
  if (tensor.device() != device) {
    bad_operand(op, std::string(role) + " is on " + tensor.device().str() +
                        ", but this communicator works on " + device.str() +
                        " (backend mpi moves host memory)");
  }
  if (!tensor.is_contiguous()) {
    bad_operand(op, std::string(role) + " must be contiguous, got a strided view " + tensor.str() +
                        "; copy it into a contiguous tensor first");
  }
  if (tensor.numel() > INT_MAX) {
    bad_operand(op, std::string(role) + " has " + std::to_string(tensor.numel()) +
                        " elements; MPI counts stop at " + std::to_string(INT_MAX) +
                        ": split the operation");
  }
}

void check_reduce_op(OpKind op, ReduceOp reduce_op, DType dtype) {
  if (reduce_op == ReduceOp::avg && dtype == DType::i32) {
    throw UnsupportedError(std::string("backend mpi does not support avg over i32 in ") +
                           op_kind_name(op) +
                           ": an integer average would be truncated; use sum and divide, or f32");
  }
}

void check_same_dtype(OpKind op, const Tensor& input, const Tensor& output) {
  if (input.dtype() != output.dtype()) {
    bad_operand(op, std::string("input and output must have the same dtype, got ") +
                        dtype_name(input.dtype()) + " and " + dtype_name(output.dtype()));
  }
}

void check_count(OpKind op, const char* role, const Tensor& tensor, std::int64_t expected,
                 const char* rule) {
  if (tensor.numel() != expected) {
    bad_operand(op, std::string(role) + " must have " + rule + " (" + std::to_string(expected) +
                        "), got " + tensor.str() + " with " + std::to_string(tensor.numel()));
  }
}

Aliasing aliasing(const Tensor& a, const Tensor& b) noexcept {
  const auto* a_begin = static_cast<const char*>(a.data_ptr());
  const auto* b_begin = static_cast<const char*>(b.data_ptr());
  if (a.nbytes() == 0 || b.nbytes() == 0) {
    // Empty tensors share no bytes; they are "the same" only as the same view passed twice
    // (separately made empty tensors may all have a null address).
    const bool same = a.shares_storage_with(b) && a_begin == b_begin && a.nbytes() == b.nbytes();
    return same ? Aliasing::same : Aliasing::separate;
  }
  if (a_begin == b_begin && a.nbytes() == b.nbytes()) return Aliasing::same;
  const bool disjoint = a_begin + a.nbytes() <= b_begin || b_begin + b.nbytes() <= a_begin;
  return disjoint ? Aliasing::separate : Aliasing::overlapping;
}

bool check_aliasing(OpKind op, const Tensor& input, const Tensor& output, bool same_allowed) {
  const Aliasing relation = aliasing(input, output);
  const bool empty = input.nbytes() == 0;  // nothing to read or write: any aliasing is harmless
  if (relation == Aliasing::overlapping ||
      (relation == Aliasing::same && !same_allowed && !empty)) {
    bad_operand(op, "input " + input.str() + " and output " + output.str() +
                        " overlap in memory; pass separate tensors" +
                        (same_allowed ? " or the same tensor twice (in place)" : ""));
  }
  return relation == Aliasing::same;
}

}  // namespace trellis::mpi
