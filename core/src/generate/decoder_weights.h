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

// A weight the architecture does not have (a bias with ModelArchitecture::bias false, a norm's
// bias for RMSNorm, ...) is an undefined tensor.
struct DecoderBlockWeights {
  Tensor norm1_weight, norm1_bias;  // [C]; the bias for LayerNorm only
  // Multi-head attention: one product gives the queries, keys and values (heads of C/NH rows).
  Tensor qkv_weight, qkv_bias;  // [3C, C], [3C]
  // Grouped-query attention: the queries, and the keys and values of the kv_heads heads.
  Tensor q_weight, q_bias;          // [C, C], [C]
  Tensor kv_weight, kv_bias;        // [2 KVW, C], [2 KVW]: keys, then values; KVW = kv_heads x C/NH
  Tensor proj_weight, proj_bias;    // [C, C], [C]
  Tensor norm2_weight, norm2_bias;  // [C]
  Tensor fc_weight, fc_bias;        // GELU: [F, C], [F]; SwiGLU: [2F, C], [2F] (gate, then up)
  Tensor fc_proj_weight, fc_proj_bias;  // [C, F], [C]
};

struct DecoderWeights {
  Tensor token_table;  // [Vp, C]; tied: also the LM head (its first V rows)
  Tensor positions;    // [maxT, C]: learned positions only
  std::vector<DecoderBlockWeights> blocks;
  Tensor final_norm_weight, final_norm_bias;  // [C]
  Tensor head;  // [Vp, C]: an untied head's own weight ("lm_head.weight"); tied: undefined
};

// A parameter's whole values (row-major, fp32) by its Trellis name.
using WeightValues = std::function<std::vector<float>(const std::string& name)>;

// Reads every weight `arch` has from `values`, by the names training gives them
// (layers/common): "wte", "wpe", "h.<l>.ln1.weight", "h.<l>.attn.qkv.weight" [3, C, C] or
// "h.<l>.attn.q.weight" and "h.<l>.attn.kv.weight" [2, KVW, C], "h.<l>.mlp.fc.weight" ([2, F, C]
// for SwiGLU), "lnf.weight", "lm_head.weight" (untied), ... Throws Error naming the parameter when
// its size is not the architecture's (a source of another model).
DecoderWeights read_decoder_weights(const DecoderArchitecture& arch, const WeightValues& values,
                                    Kernels& kernels, const std::shared_ptr<Allocator>& allocator);

}  // namespace trellis
