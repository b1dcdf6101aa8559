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
  Tensor mean;       // [n]
  Tensor rstd;       // [n]
  Tensor qkv;        // [n, 3C]
  Tensor q;          // [n, C]
  Tensor attended;   // [n, C]
  Tensor lse;        // [NH, n]
  Tensor out;        // [n, C] a sublayer's output, before the residual
  Tensor hidden;     // [n, F]
  Tensor activated;  // [n, F]

  Activations(const DecoderArchitecture& arch, std::int64_t start_, std::int64_t n_,
              const std::shared_ptr<Allocator>& alloc)
      : start(start_), n(n_) {
    const std::int64_t C = arch.hidden, F = arch.ffn_hidden;
    auto f32 = [&](const Shape& shape) { return Tensor::empty(shape, DType::f32, alloc); };
    x = f32({n, C});
    normed = f32({n, C});
    mean = f32({n});
    rstd = f32({n});
    qkv = f32({n, 3 * C});
    q = f32({n, C});
    attended = f32({n, C});
    lse = f32({arch.heads, n});
    out = f32({n, C});
    hidden = f32({n, F});
    activated = f32({n, F});
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
      logits_(static_cast<std::size_t>(arch.vocab_size)) {}

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
  // The kernel adds positions 0..n-1 of the table it is given: from `start` on.
  kernels_.embedding_forward(ids, weights_.token_table, 0,
                             weights_.positions.narrow(0, a.start, a.n), a.x);
}

void Decoder::attention(int layer, Activations& a) {
  const DecoderBlockWeights& w = weights_.blocks[static_cast<std::size_t>(layer)];
  const std::int64_t C = arch_.hidden, seen = a.start + a.n;
  kernels_.layernorm_forward(a.x, w.norm1_weight, w.norm1_bias, a.normed, a.mean, a.rstd);
  kernels_.linear_forward(a.normed, w.qkv_weight, w.qkv_bias, a.qkv);
  // The new tokens' keys and values join the cache; their queries attend over all of it.
  kernels_.copy_columns(a.qkv, C, cache_.rows(layer, a.start, a.n), 0, 2 * C);
  kernels_.copy_columns(a.qkv, 0, a.q, 0, C);
  TokenPositions queries;
  queries.runs = 1;
  queries.start[0] = a.start;
  queries.length[0] = a.n;
  TokenPositions keys;
  keys.runs = 1;
  keys.start[0] = 0;
  keys.length[0] = seen;
  kernels_.attention_block_forward(
      a.q.view({1, a.n, C}), cache_.rows(layer, 0, seen).view({1, seen, 2 * C}), queries, keys,
      static_cast<int>(arch_.heads), a.attended.view({1, a.n, C}),
      a.lse.view({1, arch_.heads, a.n}), false);
  kernels_.linear_forward(a.attended, w.proj_weight, w.proj_bias, a.out);
  kernels_.accumulate(a.x, a.out);
}

void Decoder::mlp(int layer, Activations& a) {
  const DecoderBlockWeights& w = weights_.blocks[static_cast<std::size_t>(layer)];
  kernels_.layernorm_forward(a.x, w.norm2_weight, w.norm2_bias, a.normed, a.mean, a.rstd);
  kernels_.linear_forward(a.normed, w.fc_weight, w.fc_bias, a.hidden);
  kernels_.gelu_forward(a.hidden, a.activated);
  kernels_.linear_forward(a.activated, w.fc_proj_weight, w.fc_proj_bias, a.out);
  kernels_.accumulate(a.x, a.out);
}

void Decoder::logits(Activations& a) {
  // Only the last token's logits are asked for: the others' head products are skipped.
  const std::int64_t C = arch_.hidden, V = arch_.vocab_size;
  const Tensor last = a.x.narrow(0, a.n - 1, 1);
  const Tensor normed = a.normed.narrow(0, 0, 1);
  kernels_.layernorm_forward(last, weights_.final_norm_weight, weights_.final_norm_bias, normed,
                             a.mean.narrow(0, 0, 1), a.rstd.narrow(0, 0, 1));
  Tensor out = Tensor::empty({1, V}, DType::f32, allocator_);
  // The head is tied to the token table; its padding rows are never a logit.
  kernels_.linear_forward(normed.view({1, C}), weights_.token_table.narrow(0, 0, V), Tensor(), out);
  copy_to_host(kernels_, out, logits_);
}

}  // namespace trellis
