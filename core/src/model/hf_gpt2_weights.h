// Hugging Face GPT-2 weights into and out of parameters of any layout.
//
// Each Trellis parameter maps by name to one tensor of GPT2LMHeadModel's state dict
// (h.3.attn.qkv.weight -> transformer.h.3.attn.c_attn.weight). Two differences of layout:
// Hugging Face's Conv1D stores a linear layer's weight as [in, out], so Trellis's tensor is held
// with its last axis first (qkv [3, C, C] as [C, 3C]); and the token table holds only the real
// vocabulary, so Trellis's padding rows are zero after an import and dropped by an export. The
// head is tied to the token table: a checkpoint's lm_head.weight, when it has one, must equal
// it. Names are read with or without the "transformer." prefix (GPT2LMHeadModel writes it,
// GPT2Model does not); the attention-mask buffers older files hold (attn.bias,
// attn.masked_bias) are not weights and are skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/hf_directory.h"
#include "checkpoint/safetensors_writer.h"
#include "trellis/kernels.h"
#include "trellis/layer.h"

namespace trellis {

// Where a Trellis parameter lives in a Hugging Face GPT-2 checkpoint.
struct HfGpt2Place {
  std::string name;                 // without the "transformer." prefix
  std::vector<std::int64_t> shape;  // as Hugging Face stores it
  bool transposed = false;          // held with its last axis first (Conv1D)
  bool vocab_rows = false;          // holds the first vocab_size rows of Trellis's tensor
};

// Error for a parameter GPT-2 has no tensor for.
HfGpt2Place hf_gpt2_place(const std::string& parameter, const ModelDims& dims);

// The export's tensors in GPT2LMHeadModel's order, named as it saves them.
std::vector<SafetensorsShape> hf_gpt2_tensors(const ModelDims& dims);

// Checks that `dir` holds GPT-2's tensors for `dims`, each with its shape and a dtype that
// converts to fp32, and nothing else a GPT-2 would not hold. InputError naming the tensor.
void check_hf_gpt2_weights(const HfDirectory& dir, const ModelDims& dims);

// Fills every parameter in `params` from `dir` (checked first with check_hf_gpt2_weights).
void load_hf_gpt2(const HfDirectory& dir, const ModelDims& dims,
                  const std::vector<Parameter*>& params, Kernels& kernels);

// Writing from many ranks, for directories every rank can reach: one rank creates the weights
// file (create_hf_gpt2_weights: the header, the values zeroed), every rank writes the values of
// its shards in place (write_hf_gpt2_shards; each value by exactly one rank), then one rank
// syncs it and moves it into place with config.json (finish_hf_gpt2_export).
void create_hf_gpt2_weights(const std::filesystem::path& file, const ModelDims& dims);
void write_hf_gpt2_shards(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels);
// Renames `weights` to DIR/model.safetensors and writes DIR/config.json. Other files of DIR (a
// tokenizer, a README) stay; a weight index a sharded checkpoint left there is removed, so that
// loaders read the new file.
void finish_hf_gpt2_export(const std::filesystem::path& dir, const std::filesystem::path& weights,
                           const ModelDims& dims);

// The same from one process: `params` must cover every value (Error naming the tensor).
void save_hf_gpt2(const std::filesystem::path& dir, const ModelDims& dims,
                  const std::vector<Parameter*>& params, Kernels& kernels);

}  // namespace trellis
