// Pipelined ring reduce-scatter, and all_reduce as reduce-scatter followed by all-gather.
//
// The message is cut into n blocks (partition.h), each block into k chunks. Reduce-scatter
// takes n-1 steps: at step s rank r sends block r-s-1 (its own input at step 0, then what it
// reduced the step before) to r+1, and receives block r-s-2 from r-1, which it adds to its input
// of that block. After the last step block r is complete on rank r. all_reduce then circulates
// the complete blocks for n-1 more steps: at all-gather step s rank r sends block r-s and
// receives block r-s-1.
//
// Steps are not done one after another: every (step, chunk) is a unit of its own, so chunk j of
// step s+1 is sent as soon as chunk j of step s has been reduced, while later chunks of step s
// are still arriving. A rank keeps `chunks_in_flight` receives posted ahead into scratch slots;
// the peer's copy of chunk j+1 (done by the peer's CPU over shared memory, or by the network)
// thus overlaps this rank's reduction of chunk j, and each chunk is reduced while it is still in
// cache. Units are reduced in order, so the result does not depend on timing: every block is
// reduced once, along the ring, then copied, and all ranks end with bitwise the same values.
//
// Slots (tag_layout.h): reduce-scatter unit s*k + j, all-gather unit (n-1)*k + s*k + j.
#include <vector>

#include "algorithms.h"
#include "operation.h"
#include "partition.h"
#include "trellis/reduce.h"

namespace trellis::ucx {

namespace {

struct RingJob {
  const std::byte* input;
  std::byte* output;
  std::size_t count;  // elements of the whole message (n blocks; part_begin() cuts an exact
                      // multiple of n, as reduce_scatter passes, into equal blocks)
  bool all_gather;    // all_reduce: circulate the reduced blocks afterwards
  ReduceSpec spec;
};

OpTask ring_reduce(Operation& op, RingJob job) {
  const int n = op.size();
  const int r = op.rank();
  const std::size_t esize = job.spec.element_bytes;
  const auto steps = static_cast<std::size_t>(n - 1);
  auto block_begin = [&](int b) { return part_begin(job.count, n, static_cast<std::size_t>(b)); };
  auto block_size = [&](int b) { return part_size(job.count, n, static_cast<std::size_t>(b)); };
  const std::size_t max_block = (job.count + n - 1) / n;
  const std::size_t k = chunk_count(max_block, esize, op.options().chunk_bytes);
  const std::size_t max_chunk = (max_block + k - 1) / k;
  auto chunk_begin = [&](int b, std::size_t j) { return part_begin(block_size(b), k, j); };
  auto chunk_size = [&](int b, std::size_t j) { return part_size(block_size(b), k, j); };

  // Where the partial sum of block b reduced at step s lives. all_reduce: in the output, block b
  // (every step reduces a different block). reduce_scatter: the output holds block r only, so
  // partial blocks alternate between two scratch blocks, and the last step writes the output.
  const bool in_output = job.all_gather;
  ScratchBuffer partials;
  if (!in_output && n > 2) partials = op.scratch(2 * max_block * esize);
  auto partial = [&](std::size_t s, int b) -> std::byte* {
    if (in_output) return job.output + block_begin(b) * esize;
    if (s + 1 == steps) return job.output;
    return partials.data() + (s % 2) * max_block * esize;
  };

  const std::size_t units = steps * k;
  const std::size_t window = std::min<std::size_t>(units, op.options().chunks_in_flight);
  ScratchBuffer slots = op.scratch(window * max_chunk * esize);
  auto slot = [&](std::size_t unit) { return slots.data() + (unit % window) * max_chunk * esize; };

  const int next = ring_index(r + 1, n);
  const int prev = ring_index(r - 1, n);
  std::vector<Transfer*> rs_send(units, nullptr);
  std::vector<Transfer*> rs_recv(units, nullptr);
  std::vector<Transfer*> ag_recv(job.all_gather ? units : 0, nullptr);
  std::size_t first_sent = 0;  // step-0 sends posted
  std::size_t rs_posted = 0, rs_done = 0, ag_posted = 0, ag_done = 0;
  const std::size_t ag_slot_base = units;

  auto rs_block = [&](std::size_t s) { return ring_index(static_cast<long>(r) - s - 2, n); };
  auto ag_block = [&](std::size_t s) { return ring_index(static_cast<long>(r) - s - 1, n); };

  while (rs_done < units || ag_done < ag_recv.size()) {
    bool moved = false;
    // Step 0 sends this rank's own input of block r-1. They are paced by what this rank has
    // reduced, so a fast sender never floods a slow receiver with eager copies.
    while (first_sent < k && first_sent < rs_done + window) {
      const int b = ring_index(r - 1, n);
      const std::size_t j = first_sent;
      rs_send[j] = op.send(next, job.input + (block_begin(b) + chunk_begin(b, j)) * esize,
                           chunk_size(b, j) * esize, j);
      ++first_sent;
      moved = true;
    }
    while (rs_posted < units && rs_posted < rs_done + window) {
      const std::size_t s = rs_posted / k, j = rs_posted % k;
      const int b = rs_block(s);
      rs_recv[rs_posted] = op.recv(prev, slot(rs_posted), chunk_size(b, j) * esize, rs_posted);
      ++rs_posted;
      moved = true;
    }
    while (rs_done < rs_posted && rs_recv[rs_done]->done()) {
      const std::size_t s = rs_done / k, j = rs_done % k;
      const int b = rs_block(s);
      std::byte* dst = partial(s, b) + chunk_begin(b, j) * esize;
      // reduce_scatter reuses its two partial blocks: the chunk reduced two steps ago must have
      // left (been sent on) before this one overwrites it.
      if (!in_output && s >= 2 && s + 1 < steps && !rs_send[(s - 1) * k + j]->done()) break;
      const std::size_t len = chunk_size(b, j);
      reduce_elements(job.spec.op, job.spec.dtype, dst,
                      job.input + (block_begin(b) + chunk_begin(b, j)) * esize, slot(rs_done),
                      static_cast<std::int64_t>(len));
      if (s + 1 < steps) {
        rs_send[rs_done + k] = op.send(next, dst, len * esize, rs_done + k);
      } else {
        // Block r is complete: finish avg here, once, so every rank gets the same quotient.
        if (job.spec.op == ReduceOp::avg)
          divide_elements(reinterpret_cast<float*>(dst), static_cast<std::int64_t>(len), n);
        if (job.all_gather) op.send(next, dst, len * esize, ag_slot_base + j);
      }
      ++rs_done;
      moved = true;
    }
    // All-gather receives land in the output, in block r-s-1: the block this rank sent at
    // reduce-scatter step s (in place, the very same memory), so that send must have completed.
    while (ag_posted < ag_recv.size() && ag_posted < ag_done + window && rs_send[ag_posted] &&
           rs_send[ag_posted]->done()) {
      const std::size_t s = ag_posted / k, j = ag_posted % k;
      const int b = ag_block(s);
      ag_recv[ag_posted] = op.recv(prev, job.output + (block_begin(b) + chunk_begin(b, j)) * esize,
                                   chunk_size(b, j) * esize, ag_slot_base + ag_posted);
      ++ag_posted;
      moved = true;
    }
    while (ag_done < ag_posted && ag_recv[ag_done]->done()) {
      const std::size_t s = ag_done / k, j = ag_done % k;
      if (s + 1 < steps) {
        const int b = ag_block(s);
        op.send(next, job.output + (block_begin(b) + chunk_begin(b, j)) * esize,
                chunk_size(b, j) * esize, ag_slot_base + ag_done + k);
      }
      ++ag_done;
      moved = true;
    }
    if (!moved) co_await op.any();
  }
  co_await op.drain();
}

}  // namespace

OpTask ring_all_reduce(Operation& op, const std::byte* input, std::byte* output, std::size_t count,
                       ReduceSpec spec) {
  return ring_reduce(op, {input, output, count, true, spec});
}

OpTask ring_reduce_scatter(Operation& op, const std::byte* input, std::byte* output,
                           std::size_t block_count, ReduceSpec spec) {
  return ring_reduce(
      op, {input, output, block_count * static_cast<std::size_t>(op.size()), false, spec});
}

}  // namespace trellis::ucx
