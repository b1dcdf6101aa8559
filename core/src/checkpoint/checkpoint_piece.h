// One piece of one tensor as a rank holds it: the tensor's name in the checkpoint, the region of
// the whole tensor the piece is, and its values (contiguous f32, region.numel() of them). Saving
// writes the pieces a rank owns; loading fills the pieces a rank needs, whatever pieces the
// writer had.
#pragma once

#include <cstdint>
#include <string>

#include "checkpoint/tensor_region.h"
#include "trellis/tensor.h"

namespace trellis {

struct CheckpointPiece {
  std::string name;  // "wte", "h.0.attn.qkv.weight", "adamw.m/wte", ...
  TensorRegion region;
  Tensor values;
  // Rows from this one on are vocabulary padding (-1: none): loading takes the rows below it
  // from the checkpoint and fills the rest with what the checkpoint has, or zeros where it has
  // fewer rows, so runs whose padded vocabularies differ (another tensor size) load each other.
  std::int64_t padding_rows_from = -1;
};

}  // namespace trellis
