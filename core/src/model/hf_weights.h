// Hugging Face weights — GPT-2's (GPT2LMHeadModel) and LLaMA's (LlamaForCausalLM) — into and out
// of parameters of any layout, by one table per family (hf_weights.cpp) that load, check and
// export share.
//
// Each Trellis parameter maps by name to one tensor of the family's state dict, or to one per
// slab of its first axis when Trellis stacks what Hugging Face keeps apart:
//   GPT-2   h.3.attn.qkv.weight -> transformer.h.3.attn.c_attn.weight. Conv1D stores a linear
//           layer's weight as [in, out], so Trellis's tensor is held with its last axis first
//           (qkv [3, C, C] as [C, 3C]).
//   LLaMA   nn.Linear's [out, in] is Trellis's layout. h.3.attn.qkv.weight [3, C, C] ->
//           model.layers.3.self_attn.{q,k,v}_proj.weight; with grouped-query attention
//           h.3.attn.q.weight -> q_proj and h.3.attn.kv.weight [2, KV, C] -> k_proj, v_proj;
//           h.3.mlp.fc.weight [2, F, C] -> mlp.gate_proj, mlp.up_proj; mlp.proj -> down_proj;
//           ln1, ln2, lnf -> input_layernorm, post_attention_layernorm, norm. Hugging Face's
//           rotary layout ("rotate half") is Trellis's, so q and k rows need no permutation.
// The token table (and LLaMA's untied head) holds only the real vocabulary: Trellis's padding
// rows are zero after an import and dropped by an export. A tied head's lm_head.weight, when a
// checkpoint has one, must equal the token table. Names are read with or without the family's
// prefix ("transformer.", "model."; lm_head.weight has none); buffers older files hold (GPT-2's
// attn.bias and attn.masked_bias, LLaMA's rotary_emb.inv_freq) are not weights and are skipped.
#pragma once

#include <filesystem>
#include <vector>

#include "checkpoint/hf_directory.h"
#include "checkpoint/safetensors_writer.h"
#include "model/hf_model.h"
#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

// The export's tensors in the family's order, named as its save_pretrained names them.
std::vector<SafetensorsShape> hf_tensors(const HfModel& model);

// Checks that `dir` holds the family's tensors for `model`, each with its shape and a dtype that
// converts to fp32, and nothing else such a model would not hold. InputError naming the tensor.
void check_hf_weights(const HfDirectory& dir, const HfModel& model);

// Fills every parameter in `params` from `dir` (checked first with check_hf_weights).
void load_hf_weights(const HfDirectory& dir, const HfModel& model,
                     const std::vector<Parameter*>& params, Kernels& kernels);

// Writing from many ranks, for directories every rank can reach: one rank creates the weights
// file (create_hf_weights: the header, the values zeroed), every rank writes the values of its
// shards in place (write_hf_shards; each value by exactly one rank), then one rank syncs it and
// moves it into place with config.json (finish_hf_export).
void create_hf_weights(const std::filesystem::path& file, const HfModel& model);
void write_hf_shards(const std::filesystem::path& file, const HfModel& model,
                     const std::vector<Parameter*>& params, Kernels& kernels);
// Renames `weights` to DIR/model.safetensors and writes DIR/config.json. Other files of DIR (a
// tokenizer, a README) stay; a weight index a sharded checkpoint left there is removed, so that
// loaders read the new file.
void finish_hf_export(const std::filesystem::path& dir, const std::filesystem::path& weights,
                      const HfModel& model);

// The same from one process: `params` must cover every value (Error naming the tensor).
void save_hf_model(const std::filesystem::path& dir, const HfModel& model,
                   const std::vector<Parameter*>& params, Kernels& kernels);

}  // namespace trellis
