// A layer's work per microbatch as the 1d, seq and 2d plugins describe it (their describe_cost,
// read through layer_work.h, which adds recomputation) against values worked by hand, and the
// paper's FLOPs per iteration.
#include <doctest/doctest.h>

#include "build_tree_families.h"
#include "plan/layer_work.h"
#include "plan/megatron_flops.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

// b 2, s 128, h 256, a 8, V 512, fp32.
LayerCost cost(int t, const std::string& family) {
  ModelDims d;
  d.vocab_size = d.padded_vocab = 512;
  d.seq_len = d.max_seq_len = 128;
  d.layers = 2;
  d.heads = 8;
  d.hidden = 256;
  return test::family_cost_of(family, d, t, 2, 4);
}

PassWork block(int t, const std::string& family, Recompute r = Recompute::none) {
  return block_work(cost(t, family), r);
}

double calls(const ActionWork& w, Collective op) {
  double n = 0;
  for (const CommCall& c : w.comm)
    if (c.op == op) n += c.count;
  return n;
}

}  // namespace

TEST_CASE("block FLOPs: 24 b s h^2 / t + 4 b s^2 h / t forward, twice that backward") {
  const PassWork p = block(2, "1d");
  const double linear = 24.0 * 2 * 128 * 256 * 256 / 2;  // 201,326,592
  const double core = 4.0 * 2 * 128 * 128 * 256 / 2;     // 16,777,216
  CHECK(p.forward.flops == linear + core);
  CHECK(p.backward_input.flops == linear + 2 * core);
  CHECK(p.backward_weight.flops == linear);
  CHECK(p.backward_input.flops + p.backward_weight.flops == 2 * p.forward.flops);
}

TEST_CASE("block element-wise bytes: forward 10 h + 8 h / t + 1.5 a s / t values a token") {
  const PassWork p = block(2, "1d");
  // 256 tokens x (2560 + 1024 + 1.5 x 8 x 128 / 2) values x 4 bytes
  CHECK(p.forward.bytes == 256.0 * (2560 + 1024 + 768) * 4);
  // Input gradient: 12 h + 12 h / t + 1.5 a s / t; weight gradient: 2 h + 7 h / t.
  CHECK(p.backward_input.bytes == 256.0 * (3072 + 1536 + 768) * 4);
  CHECK(p.backward_weight.bytes == 256.0 * (512 + 896) * 4);
  // seq holds the replicated values as shards and reorders 8 h / t each way.
  const PassWork s = block(2, "seq");
  CHECK(s.forward.bytes == 256.0 * (1280 + 1024 + 1024 + 768) * 4);
}

TEST_CASE("tensor collectives: 1d all-reduces, seq all-gathers and reduce-scatters") {
  const double S = 4.0 * 2 * 128 * 256;  // one microbatch's hidden states, 262,144 bytes
  const PassWork one = block(2, "1d");
  CHECK(calls(one.forward, Collective::all_reduce) == 2);
  CHECK(one.forward.comm[0].bytes == S);
  CHECK(calls(one.backward_input, Collective::all_reduce) == 2);
  CHECK(one.backward_weight.comm.empty());
  const PassWork seq = block(2, "seq");
  CHECK(calls(seq.forward, Collective::all_gather) == 2);
  CHECK(calls(seq.forward, Collective::reduce_scatter) == 2);
  CHECK(calls(seq.backward_input, Collective::all_gather) == 2);
  CHECK(calls(seq.backward_weight, Collective::all_gather) == 2);  // LayerNorm outputs again
  // Nothing moves without tensor parallelism.
  CHECK(block(1, "1d").forward.comm.empty());
  // 2d: q = 2 broadcasts of x blocks along the row per linear, 4 linears.
  const PassWork two = block(4, "2d");
  double row_broadcasts = 0;
  for (const CommCall& c : two.forward.comm)
    if (c.op == Collective::broadcast && c.group == TensorGroupPart::row) row_broadcasts += c.count;
  CHECK(row_broadcasts == 8);
}

TEST_CASE("recomputation adds the forward (full) or attention's core (selective) to backward") {
  const PassWork none = block(2, "1d");
  const PassWork full = block(2, "1d", Recompute::full);
  CHECK(full.backward_input.flops == none.backward_input.flops + none.forward.flops);
  CHECK(full.backward_input.comm.size() ==
        none.backward_input.comm.size() + none.forward.comm.size());
  const PassWork selective = block(2, "1d", Recompute::selective);
  CHECK(selective.backward_input.flops ==
        none.backward_input.flops + 4.0 * 2 * 128 * 128 * 256 / 2);
}

TEST_CASE("full recomputation's block method recomputes the first N blocks of a chunk only") {
  const LayerCost c = cost(2, "1d");
  const PassWork none = block(2, "1d");
  const PassWork uniform = chunk_blocks_work(c, {Recompute::full, RecomputeMethod::uniform, 2}, 4);
  CHECK(uniform.backward_input.flops == 4 * (none.backward_input.flops + none.forward.flops));
  const PassWork first_one = chunk_blocks_work(c, {Recompute::full, RecomputeMethod::block, 1}, 4);
  CHECK(first_one.backward_input.flops == 4 * none.backward_input.flops + none.forward.flops);
  CHECK(first_one.forward.flops == 4 * none.forward.flops);
  const PassWork selective = chunk_blocks_work(c, {Recompute::selective}, 4);
  CHECK(selective.backward_input.flops ==
        4 * block(2, "1d", Recompute::selective).backward_input.flops);
}

TEST_CASE("the LM head: 2 b s h V / t FLOPs in each pass; its statistics all-reduced") {
  const PassWork h = head_work(cost(2, "1d"));
  CHECK(h.forward.flops == 2.0 * 256 * 256 * 256);  // V / t = 256 rows
  CHECK(h.backward_input.flops == h.forward.flops);
  CHECK(h.backward_weight.flops == h.forward.flops);
  CHECK(calls(h.forward, Collective::all_reduce) == 2);
  CHECK(cost(2, "1d").pipeline_message_bytes == 262144.0);
  CHECK(cost(2, "seq").pipeline_message_bytes == 131072.0);
}

TEST_CASE("Narayanan et al.'s FLOPs per iteration: the 1.7B row") {
  // 96 x 512 x 2048 x 24 x 2304^2 x (1 + 2048 / 13824 + 51200 / 884736)
  CHECK(megatron_iteration_flops(512, 2048, 24, 2304, 51200) ==
        doctest::Approx(1.5466830067924994e16).epsilon(1e-12));
}
