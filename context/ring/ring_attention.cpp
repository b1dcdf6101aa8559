#include "ring_attention.h"

#include <array>
#include <optional>

#include "qkv_columns.h"
#include "ring_hop.h"
#include "trace_recorder.h"
#include "trellis/error.h"

namespace trellis::context {

namespace {

// What backward needs besides qkv: the finished attention and each row's softmax denominator.
struct RingStash final : ContextAttentionStash {
  Tensor out;  // [B, Tl, C], a copy: the caller's out may be reused before backward
  Tensor lse;  // [B, NH, Tl]
};

}  // namespace

RingAttention::RingAttention(const ContextInit& init) : group_(init, "ring") {
  if (backward_dkv_tag(group_.size() - 1) > group_.comm().max_tag()) {
    throw Error("context ring: a ring of " + std::to_string(group_.size()) +
                " ranks needs tags up to " + std::to_string(backward_dkv_tag(group_.size() - 1)) +
                ", but backend " + group_.comm().backend() + " takes at most " +
                std::to_string(group_.comm().max_tag()));
  }
}

std::unique_ptr<ContextAttentionStash> RingAttention::forward(const Tensor& qkv, int heads,
                                                              const Tensor& out, bool keep) {
  const AttentionShape s = group_.check(qkv, heads, out, "out", 1);
  const ContextChunks& chunks = group_.chunks();
  const int c = group_.size(), r = group_.rank();
  const Shape kv_shape{s.batch, s.tokens, 2 * s.channels};
  const Tensor q = queries_of(group_, qkv, s);
  Tensor in_hand = group_.empty(kv_shape);  // starts as this rank's own block
  copy_keys_values(group_, qkv, s, in_hand);
  const Tensor lse = group_.empty({s.batch, heads, s.tokens});
  std::array<Tensor, 2> arriving;  // the blocks received, alternately
  const TraceRecorder trace(group_.trace());
  for (int step = 0; step < c; ++step) {
    std::optional<RingHop> hop;
    if (step + 1 < c) {
      Tensor& next = arriving[step % 2];
      if (!next.defined()) next = group_.empty(kv_shape);
      hop.emplace(group_, in_hand, next, forward_kv_tag(step), "ring kv", step + 1, c - 1);
    }
    const double start = trace.now();
    group_.kernels().attention_block_forward(q, in_hand, chunks.positions(),
                                             chunks.positions_of((r - step + c) % c), heads, out,
                                             lse, step > 0);
    trace.compute("ring attention", step + 1, c, start);
    if (hop) {
      hop->wait();
      in_hand = arriving[step % 2];
    }
  }
  if (!keep) return nullptr;
  auto stash = std::make_unique<RingStash>();
  stash->out = group_.empty(out.shape());
  group_.kernels().copy(out, stash->out);
  stash->lse = lse;
  return stash;
}

void RingAttention::backward(const Tensor& dout, const Tensor& qkv, int heads,
                             ContextAttentionStash& stash, const Tensor& dqkv) {
  const auto [s, kept] = group_.check_backward<RingStash>(qkv, heads, dout, dqkv, stash);
  const ContextChunks& chunks = group_.chunks();
  const int c = group_.size(), r = group_.rank();
  const Shape kv_shape{s.batch, s.tokens, 2 * s.channels};
  const Tensor q = queries_of(group_, qkv, s);
  Tensor in_hand = group_.empty(kv_shape);
  copy_keys_values(group_, qkv, s, in_hand);
  const Tensor dq = group_.zeros({s.batch, s.tokens, s.channels});
  std::array<Tensor, 2> arriving;  // keys-values received, alternately
  // The gradient of the block in hand: this rank's share is added to a zeroed partial, then the
  // sum of the earlier ranks' shares (arrived meanwhile) to it, and it travels on while the next
  // step computes into the other partial.
  std::array<Tensor, 2> partial;
  const Tensor dkv_arrived = c > 1 ? group_.empty(kv_shape) : Tensor();
  std::optional<RingHop> gradient_hop;  // the partial of the step before, in flight
  const TraceRecorder trace(group_.trace());
  for (int step = 0; step < c; ++step) {
    std::optional<RingHop> kv_hop;
    if (step + 1 < c) {
      Tensor& next = arriving[step % 2];
      if (!next.defined()) next = group_.empty(kv_shape);
      kv_hop.emplace(group_, in_hand, next, backward_kv_tag(step), "ring kv backward", step + 1,
                     c - 1);
    }
    Tensor& dkv = partial[step % 2];
    if (!dkv.defined()) dkv = group_.empty(kv_shape);
    group_.kernels().fill(dkv, 0.0f);
    const double start = trace.now();
    group_.kernels().attention_block_backward(dout, q, in_hand, chunks.positions(),
                                              chunks.positions_of((r - step + c) % c), heads,
                                              kept->out, kept->lse, dq, dkv);
    trace.compute("ring attention backward", step + 1, c, start);
    if (gradient_hop) {
      gradient_hop->wait();
      group_.kernels().accumulate(dkv, dkv_arrived);
    }
    if (kv_hop) {
      kv_hop->wait();
      in_hand = arriving[step % 2];
    }
    if (c > 1) {
      gradient_hop.emplace(group_, dkv, dkv_arrived, backward_dkv_tag(step), "ring dkv", step + 1,
                           c);
    }
  }
  // After c hops, what arrived last is the gradient of this rank's own block.
  if (gradient_hop) gradient_hop->wait();
  write_qkv_gradient(group_, dq, c > 1 ? dkv_arrived : partial[0], s, dqkv);
}

}  // namespace trellis::context
