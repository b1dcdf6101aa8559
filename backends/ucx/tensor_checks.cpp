#include "tensor_checks.h"

#include <string>

#include "trellis/error.h"

namespace trellis::ucx {

void check_host_tensor(const char* operation, const char* role, const Tensor& tensor) {
  const std::string where = std::string(operation) + " " + role;
  if (!tensor.defined()) throw Error("backend ucx: " + where + " is an undefined tensor");
  if (tensor.device() != Device::cpu()) {
    throw UnsupportedError("backend ucx does not support " + tensor.device().str() + " tensors (" +
                           where + " " + tensor.str() +
                           "); it moves host memory only: use the nccl backend for GPU tensors");
  }
  if (!tensor.is_contiguous()) {
    throw Error("backend ucx: " + where + " " + tensor.str() +
                " is not contiguous; pass a contiguous tensor (copy the view first)");
  }
}

void check_reducible(const char* operation, DType dtype, ReduceOp op) {
  if (dtype == DType::bf16) {
    throw UnsupportedError(std::string("backend ucx does not support bf16 ") + operation);
  }
  if (op == ReduceOp::avg && dtype != DType::f32) {
    throw UnsupportedError(std::string("backend ucx does not support avg of ") + dtype_name(dtype) +
                           " in " + operation +
                           " (an integer mean would have to round); reduce with sum and divide");
  }
}

void check_output(const char* operation, const Tensor& input, const Tensor& output,
                  std::int64_t expected, const char* rule) {
  if (output.dtype() != input.dtype()) {
    throw Error(std::string("backend ucx: ") + operation + ": the output is " +
                dtype_name(output.dtype()) + " but the input is " + dtype_name(input.dtype()));
  }
  if (output.numel() != expected) {
    throw Error(std::string("backend ucx: ") + operation + ": the output " + output.str() +
                " has " + std::to_string(output.numel()) + " elements; it needs " + rule + " = " +
                std::to_string(expected) + " (input " + input.str() + ")");
  }
}

void check_rank(const char* operation, const char* role, int rank, int size) {
  if (rank < 0 || rank >= size) {
    throw Error(std::string("backend ucx: ") + operation + ": " + role + " " +
                std::to_string(rank) + " is not a rank of this group of " + std::to_string(size) +
                " (0.." + std::to_string(size - 1) + ")");
  }
}

}  // namespace trellis::ucx
