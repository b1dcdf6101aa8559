// A decoder's weights, whole and fp32, in tensors of the kernels' device, each shaped as the
// decoder's products take it (a linear layer's weight [out, in], nn.Linear's layout).
//
// They are read by Trellis's parameter names ("h.3.attn.qkv.weight") from any source that gives
// a parameter's whole values, so the decoder does not care how the model was stored or which
// layout trained it: generate/generation_model.h fills them from parameters loaded by the
// existing loaders.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "generate/decoder_architecture.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

struct DecoderBlockWeights {
  Tensor norm1_weight, norm1_bias;      // [C]
  Tensor qkv_weight;                    // [3C, C]: queries, keys, values (heads of C/NH rows)
  Tensor qkv_bias;                      // [3C]
  Tensor proj_weight, proj_bias;        // [C, C], [C]
  Tensor norm2_weight, norm2_bias;      // [C]
  Tensor fc_weight, fc_bias;            // [F, C], [F]
  Tensor fc_proj_weight, fc_proj_bias;  // [C, F], [C]
};

struct DecoderWeights {
  Tensor token_table;  // [Vp, C]; tied: also the LM head (its first V rows)
  Tensor positions;    // [maxT, C]
  std::vector<DecoderBlockWeights> blocks;
  Tensor final_norm_weight, final_norm_bias;  // [C]
};

// A parameter's whole values (row-major, fp32) by its Trellis name.
using WeightValues = std::function<std::vector<float>(const std::string& name)>;

// Reads every weight `arch` has from `values`. Throws Error naming the parameter when its size is
// not the architecture's (a source of another model).
DecoderWeights read_decoder_weights(const DecoderArchitecture& arch, const WeightValues& values,
                                    Kernels& kernels, const std::shared_ptr<Allocator>& allocator);

}  // namespace trellis
