#include "generate/decoder.h"

#include <utility>

#include "kernels/host_transfer.h"
#include "trellis/error.h"

namespace trellis {

// The tensors of one append over n new tokens starting at position `start`. Made per call: the
// allocator keeps freed blocks by size, so the one-token steps of generation reuse theirs.
struct Decoder::Activations {
  std::int64_t start = 0;
  std::int64_t n = 0;
  Tensor x;          // [n, C] the residual stream
  Tensor normed;     // [n, C]
  Tensor mean;       // [n] (LayerNorm)
  Tensor rstd;       // [n]
  Tensor qkv;        // [n, 3C] (multi-head attention)
  Tensor q;          // [n, C]
  Tensor attended;   // [n, C]
  Tensor lse;        // [NH, n]
  Tensor out;        // [n, C] a sublayer's output, before the residual
  Tensor hidden;     // [n, F], SwiGLU [n, 2F]: the fc product
  Tensor activated;  // [n, F]

  Activations(const DecoderArchitecture& arch, std::int64_t start_, std::int64_t n_,
              const std::shared_ptr<Allocator>& alloc)
      : start(start_), n(n_) {
    const ModelArchitecture& m = arch.arch;
    const std::int64_t C = arch.hidden, F = m.ffn_hidden;
    auto f32 = [&](const Shape& shape) { return Tensor::empty(shape, DType::f32, alloc); };
    x = f32({n, C});
    normed = f32({n, C});
    if (m.norm == ModelArchitecture::Norm::layernorm) mean = f32({n});
    rstd = f32({n});
    if (!arch.grouped()) qkv = f32({n, 3 * C});
    q = f32({n, C});
    attended = f32({n, C});
    lse = f32({arch.heads, n});
    out = f32({n, C});
    hidden = f32({n, m.mlp == ModelArchitecture::Mlp::swiglu ? 2 * F : F});
    activated = f32({n, F});
  }

  // The new tokens' positions: one run from `start`.
  TokenPositions positions() const {
    TokenPositions at;
    at.runs = 1;
    at.start[0] = start;
    at.length[0] = n;
    return at;
  }
};

namespace {

const DecoderArchitecture& checked(const DecoderArchitecture& arch) {
  check_decodable(arch);
  return arch;
}

}  // namespace

Decoder::Decoder(const DecoderArchitecture& arch, DecoderWeights weights, Kernels& kernels,
                 std::shared_ptr<Allocator> allocator)
    : arch_(checked(arch)),
      weights_(std::move(weights)),
      kernels_(kernels),
      allocator_(std::move(allocator)),
      cache_(arch_, allocator_),
      logits_(static_cast<std::size_t>(arch.vocab_size)) {
  if (arch_.grouped()) {
    kv_expanded_ = Tensor::empty({arch_.max_positions, 2 * arch_.hidden}, DType::f32, allocator_);
  }
}

std::span<const float> Decoder::append(std::span<const std::int32_t> tokens) {
  const std::int64_t n = static_cast<std::int64_t>(tokens.size());
  const std::int64_t start = cache_.length();
  if (n == 0) throw Error("Decoder::append needs at least one token");
  if (start + n > arch_.max_positions) {
    throw InputError(std::to_string(start + n) + " tokens do not fit the model's " +
                     std::to_string(arch_.max_positions) + " positions");
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= arch_.vocab_size) {
      throw InputError("token id " + std::to_string(tokens[i]) + " at position " +
                       std::to_string(start + i) + " is outside the model's vocabulary (ids 0.." +
                       std::to_string(arch_.vocab_size - 1) + ")");
    }
  }
  Activations a(arch_, start, n, allocator_);
  embed(tokens, a);
  for (int l = 0; l < static_cast<int>(arch_.layers); ++l) {
    attention(l, a);
    mlp(l, a);
  }
  cache_.advance(n);
  logits(a);
  return logits_;
}

void Decoder::embed(std::span<const std::int32_t> tokens, Activations& a) {
  Tensor ids = Tensor::empty({1, a.n}, DType::i32, allocator_);
  copy_from_host(kernels_, tokens, ids);
  // The kernel adds positions 0..n-1 of the table it is given: from `start` on. Rotary
  // positions have no table: they turn the queries and keys instead.
  const Tensor positions =
      weights_.positions.defined() ? weights_.positions.narrow(0, a.start, a.n) : Tensor();
  kernels_.embedding_forward(ids, weights_.token_table, 0, positions, a.x);
}

void Decoder::norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& out,
                   Activations& a) {
  const std::int64_t rows = x.shape()[0];
  if (arch_.arch.norm == ModelArchitecture::Norm::rmsnorm) {
    kernels_.rmsnorm_forward(x, weight, static_cast<float>(arch_.arch.norm_eps), out,
                             a.rstd.narrow(0, 0, rows));
  } else {
    kernels_.layernorm_forward(x, weight, bias, out, a.mean.narrow(0, 0, rows),
                               a.rstd.narrow(0, 0, rows));
  }
}

void Decoder::project_qkv(int layer, Activations& a) {
  const DecoderBlockWeights& w = weights_.blocks[static_cast<std::size_t>(layer)];
  const ModelArchitecture& m = arch_.arch;
  const std::int64_t C = arch_.hidden, hs = arch_.head_size();
  const bool rope = m.positions == ModelArchitecture::Positions::rope;
  const Tensor new_kv = cache_.rows(layer, a.start, a.n);
  if (!arch_.grouped()) {
    kernels_.linear_forward(a.normed, w.qkv_weight, w.qkv_bias, a.qkv);
    // Queries and keys are the first 2 NH heads of each row.
    if (rope) {
      kernels_.rope(a.qkv.view({1, a.n, 3 * C}), 0, 2 * arch_.heads, hs, a.positions(),
                    m.rope_theta, false);
    }
    // The new tokens' keys and values join the cache.
    kernels_.copy_columns(a.qkv, C, new_kv, 0, 2 * C);
    kernels_.copy_columns(a.qkv, 0, a.q, 0, C);
    return;
  }
  // Grouped-query: the keys and values of the kv_heads heads go straight into the cache's rows.
  const std::int64_t KVW = arch_.kv_width();
  kernels_.linear_forward(a.normed, w.q_weight, w.q_bias, a.q);
  kernels_.linear_forward(a.normed, w.kv_weight, w.kv_bias, new_kv);
  if (rope) {
    kernels_.rope(a.q.view({1, a.n, C}), 0, arch_.heads, hs, a.positions(), m.rope_theta, false);
    kernels_.rope(new_kv.view({1, a.n, 2 * KVW}), 0, m.kv_heads, hs, a.positions(), m.rope_theta,
                  false);
  }
}

Tensor Decoder::keys_and_values(int layer, std::int64_t seen) {
  const Tensor cached = cache_.rows(layer, 0, seen);
  if (!arch_.grouped()) return cached;
  // Query head h reads key/value head h / (NH / KV): each cached head is copied next to every
  // query head it serves, keys in the first C columns and values in the next C.
  const std::int64_t C = arch_.hidden, hs = arch_.head_size(), KVW = arch_.kv_width();
  const std::int64_t group = arch_.heads / arch_.arch.kv_heads;
  const Tensor expanded = kv_expanded_.narrow(0, 0, seen);
  for (std::int64_t h = 0; h < arch_.heads; ++h) {
    const std::int64_t src = (h / group) * hs, dst = h * hs;
    kernels_.copy_columns(cached, src, expanded, dst, hs);
    kernels_.copy_columns(cached, KVW + src, expanded, C + dst, hs);
  }
  return expanded;
}

void Decoder::attention(int layer, Activations& a) {
  const DecoderBlockWeights& w = weights_.blocks[static_cast<std::size_t>(layer)];
  const std::int64_t C = arch_.hidden, seen = a.start + a.n;
  norm(a.x, w.norm1_weight, w.norm1_bias, a.normed, a);
  project_qkv(layer, a);
  // The new tokens' queries attend over every position seen, their own included.
  TokenPositions keys;
  keys.runs = 1;
  keys.start[0] = 0;
  keys.length[0] = seen;
  kernels_.attention_block_forward(
      a.q.view({1, a.n, C}), keys_and_values(layer, seen).view({1, seen, 2 * C}), a.positions(),
      keys, static_cast<int>(arch_.heads), a.attended.view({1, a.n, C}),
      a.lse.view({1, arch_.heads, a.n}), false);
  kernels_.linear_forward(a.attended, w.proj_weight, w.proj_bias, a.out);
  kernels_.accumulate(a.x, a.out);
}

void Decoder::mlp(int layer, Activations& a) {
  const DecoderBlockWeights& w = weights_.blocks[static_cast<std::size_t>(layer)];
  norm(a.x, w.norm2_weight, w.norm2_bias, a.normed, a);
  kernels_.linear_forward(a.normed, w.fc_weight, w.fc_bias, a.hidden);
  if (arch_.arch.mlp == ModelArchitecture::Mlp::swiglu) {
    kernels_.swiglu_forward(a.hidden, a.activated);
  } else {
    kernels_.gelu_forward(a.hidden, a.activated);
  }
  kernels_.linear_forward(a.activated, w.fc_proj_weight, w.fc_proj_bias, a.out);
  kernels_.accumulate(a.x, a.out);
}

void Decoder::logits(Activations& a) {
  // Only the last token's logits are asked for: the others' head products are skipped.
  const std::int64_t C = arch_.hidden, V = arch_.vocab_size;
  const Tensor last = a.x.narrow(0, a.n - 1, 1);
  const Tensor normed = a.normed.narrow(0, 0, 1);
  norm(last, weights_.final_norm_weight, weights_.final_norm_bias, normed, a);
  Tensor out = Tensor::empty({1, V}, DType::f32, allocator_);
  // The head is the token table (tied) or its own weight; its padding rows are never a logit.
  const Tensor& head = weights_.head.defined() ? weights_.head : weights_.token_table;
  kernels_.linear_forward(normed.view({1, C}), head.narrow(0, 0, V), Tensor(), out);
  copy_to_host(kernels_, out, logits_);
}

}  // namespace trellis
