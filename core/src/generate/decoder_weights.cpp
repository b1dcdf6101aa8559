#include "generate/decoder_weights.h"

#include "kernels/host_transfer.h"
#include "trellis/error.h"

namespace trellis {

DecoderWeights read_decoder_weights(const DecoderArchitecture& arch, const WeightValues& values,
                                    Kernels& kernels, const std::shared_ptr<Allocator>& allocator) {
  auto read = [&](const std::string& name, const Shape& shape) {
    const std::vector<float> host = values(name);
    if (static_cast<std::int64_t>(host.size()) != shape.numel()) {
      throw Error("parameter " + name + " has " + std::to_string(host.size()) +
                  " values; the decoder of " + arch.describe() + " takes " + shape.str() + " = " +
                  std::to_string(shape.numel()));
    }
    Tensor t = Tensor::empty(shape, DType::f32, allocator);
    copy_from_host(kernels, host, t);
    return t;
  };
  const ModelArchitecture& m = arch.arch;
  const std::int64_t C = arch.hidden, F = m.ffn_hidden, KVW = arch.kv_width();
  const bool bias = m.bias, layernorm = m.norm == ModelArchitecture::Norm::layernorm;
  const std::int64_t fc_rows = m.mlp == ModelArchitecture::Mlp::swiglu ? 2 * F : F;
  // A bias, or an undefined tensor where the architecture has none.
  auto read_bias = [&](bool has, const std::string& name, std::int64_t size) {
    return has ? read(name, {size}) : Tensor();
  };
  DecoderWeights w;
  w.token_table = read("wte", {arch.padded_vocab, C});
  if (m.positions == ModelArchitecture::Positions::learned)
    w.positions = read("wpe", {arch.max_positions, C});
  for (std::int64_t l = 0; l < arch.layers; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    DecoderBlockWeights b;
    b.norm1_weight = read(p + "ln1.weight", {C});
    b.norm1_bias = read_bias(layernorm, p + "ln1.bias", C);
    if (arch.grouped()) {
      b.q_weight = read(p + "attn.q.weight", {C, C});
      b.q_bias = read_bias(bias, p + "attn.q.bias", C);
      b.kv_weight = read(p + "attn.kv.weight", {2 * KVW, C});
      b.kv_bias = read_bias(bias, p + "attn.kv.bias", 2 * KVW);
    } else {
      b.qkv_weight = read(p + "attn.qkv.weight", {3 * C, C});
      b.qkv_bias = read_bias(bias, p + "attn.qkv.bias", 3 * C);
    }
    b.proj_weight = read(p + "attn.proj.weight", {C, C});
    b.proj_bias = read_bias(bias, p + "attn.proj.bias", C);
    b.norm2_weight = read(p + "ln2.weight", {C});
    b.norm2_bias = read_bias(layernorm, p + "ln2.bias", C);
    b.fc_weight = read(p + "mlp.fc.weight", {fc_rows, C});
    b.fc_bias = read_bias(bias, p + "mlp.fc.bias", fc_rows);
    b.fc_proj_weight = read(p + "mlp.proj.weight", {C, F});
    b.fc_proj_bias = read_bias(bias, p + "mlp.proj.bias", C);
    w.blocks.push_back(std::move(b));
  }
  w.final_norm_weight = read("lnf.weight", {C});
  w.final_norm_bias = read_bias(layernorm, "lnf.bias", C);
  if (!m.tie_embeddings) w.head = read("lm_head.weight", {arch.padded_vocab, C});
  return w;
}

}  // namespace trellis
