// Parameters one tensor rank holds, piece by piece, as the layer families cut them.
//
//   block (1d, seq)   12 h^2 / t + 7 h / t + 6 h: QKV, projection, MLP weights and the
//                     column-parallel biases split; LayerNorms and the row-parallel biases whole
//   block (2d)        (12 h^2 + 13 h) / t: weights in q x q blocks, vectors in 1/t pieces
//   embedding         V h / t token rows + the position table (whole in 1d/seq, 1/t in 2d)
//   head              the final LayerNorm (2 h, or 2 h / t in 2d), plus its own copy of the
//                     token table when the embedding is on another pipeline rank (tied weights)
#pragma once

#include "plan/layout_choice.h"
#include "trellis/config.h"

namespace trellis::plan {

double block_parameters(const ModelDims& dims, int tensor, TensorMode mode);
double embedding_parameters(const ModelDims& dims, int tensor, TensorMode mode);
double head_parameters(const ModelDims& dims, int tensor, TensorMode mode, bool owns_table);
// The token table's rows on one tensor rank (what the tied-weight reduction moves).
double token_table_parameters(const ModelDims& dims, int tensor);

}  // namespace trellis::plan
