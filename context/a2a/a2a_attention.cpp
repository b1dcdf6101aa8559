#include "a2a_attention.h"

#include "head_groups.h"
#include "sequence_order.h"
#include "trace_recorder.h"
#include "trellis/error.h"

namespace trellis::context {

namespace {

struct AllToAllStash final : ContextAttentionStash {
  Tensor sequences;  // [B, T, 3C/c]: the rank's head group of every token, in sequence order
  Tensor probs;      // [B, NH/c, T, T]
};

}  // namespace

int AllToAllAttention::heads_per_rank(int heads) const {
  const int c = group_.size();
  if (heads % c != 0) {
    throw Error("context a2a: this rank's " + std::to_string(heads) +
                " heads cannot be dealt out evenly to the " + std::to_string(c) +
                " ranks of the context group (model.heads must be a multiple of tensor x context)");
  }
  return heads / c;
}

void AllToAllAttention::exchange(const Tensor& in, const Tensor& out, const char* what) const {
  const TraceRecorder trace(group_.trace());
  const double posted = trace.now();
  group_.comm().all_to_all(in, out)->wait();
  // Every chunk but this rank's own leaves it.
  trace.communication(what, 1, 1, posted,
                      static_cast<std::int64_t>(in.nbytes()) / group_.size() * (group_.size() - 1));
}

std::unique_ptr<ContextAttentionStash> AllToAllAttention::forward(const Tensor& qkv, int heads,
                                                                  const Tensor& out, bool keep) {
  const AttentionShape s = group_.check(qkv, heads, out, "out", 1);
  const int c = group_.size(), group_heads = heads_per_rank(heads);
  const std::int64_t w = s.channels / c, T = group_.chunks().seq_len;
  Kernels& k = group_.kernels();

  const Tensor send = group_.empty({c, s.batch, s.tokens, 3 * w});
  split_head_groups(k, qkv, 3, send);
  const Tensor received = group_.empty(send.shape());
  exchange(send, received, "a2a qkv");
  const Tensor sequences = group_.empty({s.batch, T, 3 * w});
  ranks_to_sequences(k, group_.chunks(), received, sequences);

  const TraceRecorder trace(group_.trace());
  const double start = trace.now();
  const Tensor att = group_.empty({s.batch, T, w});
  const Tensor probs = group_.empty({s.batch, group_heads, T, T});
  k.attention_forward(sequences, group_heads, att, probs);
  trace.compute("a2a attention", 1, 1, start);

  const Tensor att_by_rank = group_.empty({c, s.batch, s.tokens, w});
  sequences_to_ranks(k, group_.chunks(), att, att_by_rank);
  const Tensor returned = group_.empty(att_by_rank.shape());
  exchange(att_by_rank, returned, "a2a out");
  join_head_groups(k, returned, 1, out);
  if (!keep) return nullptr;
  auto stash = std::make_unique<AllToAllStash>();
  stash->sequences = sequences;
  stash->probs = probs;
  return stash;
}

void AllToAllAttention::backward(const Tensor& dout, const Tensor& qkv, int heads,
                                 ContextAttentionStash& stash, const Tensor& dqkv) {
  const auto [s, kept] = group_.check_backward<AllToAllStash>(qkv, heads, dout, dqkv, stash);
  const int c = group_.size(), group_heads = heads_per_rank(heads);
  const std::int64_t w = s.channels / c, T = group_.chunks().seq_len;
  Kernels& k = group_.kernels();

  const Tensor dout_groups = group_.empty({c, s.batch, s.tokens, w});
  split_head_groups(k, dout, 1, dout_groups);
  const Tensor received = group_.empty(dout_groups.shape());
  exchange(dout_groups, received, "a2a dout");
  const Tensor dout_sequences = group_.empty({s.batch, T, w});
  ranks_to_sequences(k, group_.chunks(), received, dout_sequences);

  const TraceRecorder trace(group_.trace());
  const double start = trace.now();
  const Tensor dsequences = group_.empty(kept->sequences.shape());
  k.attention_backward(dout_sequences, kept->sequences, kept->probs, group_heads, dsequences);
  trace.compute("a2a attention backward", 1, 1, start);

  const Tensor dqkv_by_rank = group_.empty({c, s.batch, s.tokens, 3 * w});
  sequences_to_ranks(k, group_.chunks(), dsequences, dqkv_by_rank);
  const Tensor returned = group_.empty(dqkv_by_rank.shape());
  exchange(dqkv_by_rank, returned, "a2a dqkv");
  join_head_groups(k, returned, 3, dqkv);
}

}  // namespace trellis::context
