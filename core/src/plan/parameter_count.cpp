#include "plan/parameter_count.h"

namespace trellis::plan {

double block_parameters(const ModelDims& dims, int tensor, TensorMode mode) {
  const double h = static_cast<double>(dims.hidden), t = tensor;
  if (mode == TensorMode::two_d) return (12 * h * h + 13 * h) / t;
  return 12 * h * h / t + 7 * h / t + 6 * h;
}

double token_table_parameters(const ModelDims& dims, int tensor) {
  return static_cast<double>(dims.padded_vocab) * static_cast<double>(dims.hidden) / tensor;
}

double embedding_parameters(const ModelDims& dims, int tensor, TensorMode mode) {
  const double positions = static_cast<double>(dims.max_seq_len) * static_cast<double>(dims.hidden);
  return token_table_parameters(dims, tensor) +
         (mode == TensorMode::two_d ? positions / tensor : positions);
}

double head_parameters(const ModelDims& dims, int tensor, TensorMode mode, bool owns_table) {
  const double norm = 2.0 * static_cast<double>(dims.hidden);
  return (mode == TensorMode::two_d ? norm / tensor : norm) +
         (owns_table ? token_table_parameters(dims, tensor) : 0.0);
}

}  // namespace trellis::plan
