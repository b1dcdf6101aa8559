#include "allgather_attention.h"

#include "qkv_columns.h"
#include "trace_recorder.h"
#include "trellis/error.h"

namespace trellis::context {

namespace {

struct AllGatherStash final : ContextAttentionStash {
  Tensor gathered;  // [c, B, Tl, 2C]: rank r's keys-values are block r
  Tensor out;       // [B, Tl, C], a copy: the caller's out may be reused before backward
  Tensor lse;       // [B, NH, Tl]
};

}  // namespace

std::unique_ptr<ContextAttentionStash> AllGatherAttention::forward(const Tensor& qkv, int heads,
                                                                   const Tensor& out, bool keep) {
  const AttentionShape s = group_.check(qkv, heads, out, "out", 1);
  const ContextChunks& chunks = group_.chunks();
  const int c = group_.size();
  const Tensor q = queries_of(group_, qkv, s);
  const Tensor own = group_.empty({s.batch, s.tokens, 2 * s.channels});
  copy_keys_values(group_, qkv, s, own);
  const Tensor gathered = group_.empty({c, s.batch, s.tokens, 2 * s.channels});
  const TraceRecorder trace(group_.trace());
  const double posted = trace.now();
  group_.comm().all_gather(own, gathered)->wait();
  // What every rank must send, whatever the backend's algorithm: its block to the c - 1 others.
  trace.communication("allgather kv", 1, 1, posted,
                      (c - 1) * static_cast<std::int64_t>(own.nbytes()));

  const Tensor lse = group_.empty({s.batch, heads, s.tokens});
  for (int block = 0; block < c; ++block) {
    const double start = trace.now();
    group_.kernels().attention_block_forward(q, gathered.narrow(0, block, 1).view(own.shape()),
                                             chunks.positions(), chunks.positions_of(block), heads,
                                             out, lse, block > 0);
    trace.compute("allgather attention", block + 1, c, start);
  }
  if (!keep) return nullptr;
  auto stash = std::make_unique<AllGatherStash>();
  stash->gathered = gathered;
  stash->out = group_.empty(out.shape());
  group_.kernels().copy(out, stash->out);
  stash->lse = lse;
  return stash;
}

void AllGatherAttention::backward(const Tensor& dout, const Tensor& qkv, int heads,
                                  ContextAttentionStash& stash, const Tensor& dqkv) {
  const auto [s, kept] = group_.check_backward<AllGatherStash>(qkv, heads, dout, dqkv, stash);
  const ContextChunks& chunks = group_.chunks();
  const int c = group_.size();
  const Shape kv_shape{s.batch, s.tokens, 2 * s.channels};
  const Tensor q = queries_of(group_, qkv, s);
  const Tensor dq = group_.zeros({s.batch, s.tokens, s.channels});
  const Tensor dkv_all = group_.zeros(kept->gathered.shape());
  const TraceRecorder trace(group_.trace());
  for (int block = 0; block < c; ++block) {
    const double start = trace.now();
    group_.kernels().attention_block_backward(
        dout, q, kept->gathered.narrow(0, block, 1).view(kv_shape), chunks.positions(),
        chunks.positions_of(block), heads, kept->out, kept->lse, dq,
        dkv_all.narrow(0, block, 1).view(kv_shape));
    trace.compute("allgather attention backward", block + 1, c, start);
  }
  const Tensor dkv = group_.empty(kv_shape);
  const double posted = trace.now();
  group_.comm().reduce_scatter(dkv_all, dkv, ReduceOp::sum)->wait();
  // What every rank must send: its share of the c - 1 other ranks' gradients.
  trace.communication("allgather dkv reduce-scatter", 1, 1, posted,
                      (c - 1) * static_cast<std::int64_t>(dkv.nbytes()));
  write_qkv_gradient(group_, dq, dkv, s, dqkv);
}

}  // namespace trellis::context
