// Context parallelism: the tokens of each sequence split across a context group, and attention
// computed across it (plugin kind "context", chosen by [parallel] context_mode; ABI 2.1).
//
// Every layer but attention works token by token, so under context parallelism a rank runs the
// embedding, LayerNorms, MLP and loss on its own tokens only. Attention needs every earlier token
// of the sequence; a ContextAttention plugin supplies it by communicating over the context group
// (passing keys and values around a ring, all-gathering them, or trading sequence shards for head
// shards with all-to-all).
//
// Which tokens a rank holds: Megatron-Core's causal load balancing. Each sequence of T tokens is
// cut into 2c chunks of T/(2c); context rank i holds chunks i and 2c-1-i, in that order, so that
// under the causal mask every rank has the same share of the work (an early chunk sees few keys,
// its partner at the end sees many). With c = 1 the rank holds the whole sequence in order.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

// The chunks of every sequence that the ranks of a context group hold.
struct ContextChunks {
  std::int64_t seq_len = 1;  // T; a multiple of 2 * size when size > 1
  int size = 1;              // c, the ranks of the context group
  int rank = 0;              // this rank's place in it

  std::int64_t chunk_len() const noexcept { return seq_len / (2 * size); }
  // Tokens of each sequence a rank holds: T / c.
  std::int64_t local_len() const noexcept { return seq_len / size; }
  // The positions of context rank `r`'s tokens, in the order it holds them: {0, T} when size is
  // 1, else the runs {r * chunk, chunk} and {(2c-1-r) * chunk, chunk}.
  TokenPositions positions_of(int r) const noexcept {
    TokenPositions p;
    if (size == 1) {
      p.runs = 1;
      p.start[0] = 0;
      p.length[0] = seq_len;
      return p;
    }
    p.runs = 2;
    p.start[0] = r * chunk_len();
    p.start[1] = (2 * size - 1 - r) * chunk_len();
    p.length[0] = p.length[1] = chunk_len();
    return p;
  }
  TokenPositions positions() const noexcept { return positions_of(rank); }
};

// Where a ContextAttention may record what it does, for the run's trace (null when the run
// writes none). Times are microseconds of now_us()'s clock.
class ContextTrace {
 public:
  virtual ~ContextTrace() = default;
  virtual double now_us() const = 0;
  // A slice on this rank's compute track (attention of one block) or communication track (a
  // transfer, with the bytes this rank sent in it), with a short name ("ring attention 1/4",
  // "ring kv 1/4").
  virtual void compute(std::string_view name, double start_us, double end_us) = 0;
  virtual void communication(std::string_view name, double start_us, double end_us,
                             std::int64_t bytes_sent) = 0;
};

// What the attention of one microbatch keeps for its backward: the mode's own.
class ContextAttentionStash {
 public:
  virtual ~ContextAttentionStash() = default;
};

// Causal self-attention of the context group's tokens, made once per rank for the whole run.
// Collective: every rank of the context group calls forward (and backward) for the same
// microbatches in the same order, with the same shapes.
class ContextAttention {
 public:
  virtual ~ContextAttention() = default;

  // qkv[B, Tl, 3C]: this rank's Tl = T/c tokens of B sequences (ContextChunks order), each token's
  // queries, keys and values side by side in heads of C/heads channels (C is this rank's tensor
  // shard of the channels). Writes out[B, Tl, C], each token's attention over every token of its
  // sequence at or before it. Returns what backward needs, or null when `keep` is false
  // (forward only).
  virtual std::unique_ptr<ContextAttentionStash> forward(const Tensor& qkv, int heads,
                                                         const Tensor& out, bool keep) = 0;
  // dqkv[B, Tl, 3C] (overwritten) from dout[B, Tl, C], with the forward's qkv and stash.
  virtual void backward(const Tensor& dout, const Tensor& qkv, int heads,
                        ContextAttentionStash& stash, const Tensor& dqkv) = 0;
};

// What a context plugin's factory receives.
struct ContextInit {
  Communicator* context = nullptr;  // the context group; its rank() is chunks.rank
  ContextChunks chunks;
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  ContextTrace* trace = nullptr;     // may be null
  const Options* options = nullptr;  // the plugin's [context.<name>] table
};

}  // namespace trellis
