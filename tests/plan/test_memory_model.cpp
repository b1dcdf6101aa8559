// The memory model against values worked by hand: bytes per parameter by precision and ZeRO,
// parameters per piece and Trellis's stash as the 1d, seq and 2d plugins describe them,
// Korthikanti et al.'s per-layer activations, and the walk of a rank's actions that finds its
// activation peak.
#include <doctest/doctest.h>

#include "build_tree_families.h"
#include "plan/activation_memory.h"
#include "plan/activation_timeline.h"
#include "plan/precision.h"
#include "train/model_flops.h"

using namespace trellis;
using namespace trellis::plan;

TEST_CASE("bytes per parameter: fp32 16, bf16 18, fp16 16; zero 1 shards the optimizer") {
  const Precision fp32 = precision_for("fp32");
  CHECK(fp32.state_bytes_per_parameter(0, 4) == 16.0);
  // Trellis's zero 1: parameters and gradients whole, moments and the reduced gradient for
  // 1/data: (2 + 3/data) x 4 bytes (docs/checkpoints.md).
  CHECK(fp32.state_bytes_per_parameter(1, 4) == doctest::Approx(4 * (2 + 3.0 / 4)));
  CHECK(fp32.state_bytes_per_parameter(1, 2) == doctest::Approx(4 * (2 + 3.0 / 2)));
  CHECK(precision_for("bf16").state_bytes_per_parameter(0, 8) == 18.0);
  CHECK(precision_for("bf16").state_bytes_per_parameter(1, 8) == doctest::Approx(6 + 12.0 / 8));
  CHECK(precision_for("fp16").state_bytes_per_parameter(0, 8) == 16.0);
  CHECK(precision_for("fp16").activation_bytes == 2.0);
  CHECK_THROWS(precision_for("int8"));
}

TEST_CASE("parameters per piece add up to the model's count") {
  ModelDims d;
  d.vocab_size = 500;
  d.padded_vocab = 512;
  d.seq_len = 128;
  d.max_seq_len = 128;
  d.layers = 8;
  d.heads = 8;
  d.hidden = 256;
  auto params = [&](const std::string& family, int t) {
    return test::family_cost_of(family, d, t, 1, 4).parameters;
  };
  // 12 h^2 / t + 7 h / t + 6 h at h = 256, t = 2: 393216 + 896 + 1536
  CHECK(params("1d", 2).block == 395648.0);
  CHECK(params("seq", 2).block == 395648.0);
  CHECK(params("2d", 4).block == doctest::Approx((12.0 * 65536 + 13 * 256) / 4));
  CHECK(params("1d", 2).embedding == 512.0 * 256 / 2 + 128.0 * 256);
  CHECK(params("1d", 2).head == 512.0);                   // the final LayerNorm
  CHECK(params("1d", 2).token_table == 512.0 * 256 / 2);  // the last stage's tied copy
  // One rank holding everything is the model itself (train/model_flops.h's count).
  const double whole =
      d.layers * params("1d", 1).block + params("1d", 1).embedding + params("1d", 1).head;
  CHECK(whole == static_cast<double>(parameter_count(d)));
}

namespace {

ActivationShape shape(std::int64_t b, std::int64_t s, std::int64_t h, std::int64_t a, int t,
                      Recompute r = Recompute::none, double e = 2) {
  ActivationShape w;
  w.micro_batch = b;
  w.seq_len = s;
  w.hidden = h;
  w.heads = a;
  w.tensor = t;
  w.recompute.granularity = r;
  w.activation_bytes = e;
  return w;
}

// The family's description for the shape (vocabulary 51200).
LayerCost cost(const std::string& family, const ActivationShape& w) {
  ModelDims d;
  d.vocab_size = d.padded_vocab = 51200;
  d.seq_len = d.max_seq_len = w.seq_len;
  d.layers = 1;
  d.heads = w.heads;
  d.hidden = w.hidden;
  return test::family_cost_of(family, d, w.tensor, static_cast<int>(w.micro_batch),
                              w.activation_bytes);
}

constexpr bool kWhole = false, kSharded = true;  // the published 1d form, and seq's

}  // namespace

TEST_CASE("Korthikanti et al.'s activations per layer (s 2048, b 1, h 4096, a 32)") {
  // s b h = 8,388,608; 5 a s / h = 80.
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 1), kWhole) ==
        8388608.0 * 114);  // 34 + 80
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8), kWhole) ==
        8388608.0 * 23);  // 10 + 24/8 + 80/8
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8), kSharded) ==
        8388608.0 / 8 * 114);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, Recompute::selective),
                                         kWhole) == 8388608.0 * 13);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, Recompute::selective),
                                         kSharded) == 34.0 * 8388608 / 8);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, Recompute::full), kWhole) ==
        2.0 * 8388608);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, Recompute::full), kSharded) ==
        2.0 * 8388608 / 8);
  // Each family says which form its activations take: 1d's regions whole, seq's and 2d's shards.
  const ActivationShape four = shape(1, 2048, 4096, 32, 4);
  CHECK_FALSE(cost("1d", four).activations_sharded);
  CHECK(cost("seq", four).activations_sharded);
  CHECK(cost("2d", four).activations_sharded);
}

TEST_CASE("Trellis's stash per layer: e [s b h (4 + 12/t) + 4 s b + a s^2 b / t]") {
  // b 2, s 128, h 256, a 8, t 2, f32: per token 4 h + 12 h / t + 4 + a s / t
  // = 1024 + 1536 + 4 + 512 = 3076 values; 256 tokens x 4 bytes.
  const ActivationShape w = shape(2, 128, 256, 8, 2, Recompute::none, 4);
  CHECK(trellis_layer_activation_bytes(cost("1d", w), w) == 3076.0 * 256 * 4);
  // seq: every term a 1/t shard: 16 h / t + 4 / t + a s / t = 2048 + 2 + 512.
  CHECK(trellis_layer_activation_bytes(cost("seq", w), w) == 2562.0 * 256 * 4);
  // Full recomputation keeps the layer's input.
  const ActivationShape full = shape(2, 128, 256, 8, 2, Recompute::full, 4);
  CHECK(trellis_layer_activation_bytes(cost("1d", full), full) == 256.0 * 256 * 4);
}

TEST_CASE("a chunk's activations: after forward, after the input gradient, at its peaks") {
  const ActivationShape w = shape(2, 128, 256, 8, 2, Recompute::none, 4);
  const LayerCost one_d = cost("1d", w);
  const double value = 256.0 * 4;  // one value a token, in bytes
  const ChunkActivations c = chunk_activations(one_d, w, 2, false, ActivationModel::trellis);
  CHECK(c.per_layer == 3076 * value);
  CHECK(c.after_forward == (2 * 3076 + 256) * value);  // two layers and the chunk's input
  // (4 h + 12 h / t) a layer for the weight gradient, and the gradient that arrived.
  CHECK(c.after_input == (2 * 2560 + 256) * value);
  // The top layer's workspace (4 h + 8 h / t) and the arriving gradient on top.
  CHECK(c.peak_in_backward == c.after_forward + (256 + 1024 + 1024) * value);
  CHECK(c.peak_in_input == c.peak_in_backward);
  // With the head: its logits (V / t a token) are held until its backward.
  const ChunkActivations h = chunk_activations(one_d, w, 2, true, ActivationModel::trellis);
  CHECK(h.after_forward == c.after_forward + (256 + 2 + 25600 + 3) * value);
}

TEST_CASE("a chunk's activations under Trellis's recomputation (model/model_chunk.cpp)") {
  // 1d, b 2, s 128, h 256, a 8, t 2, f32; values a token: a block's stash 2564 and its
  // probabilities 512 (3076 in all), after its input gradient 2560, its workspace 2048; the chunk
  // input, a group's input and the arriving gradient 256 each.
  ActivationShape w = shape(2, 128, 256, 8, 2, Recompute::selective, 4);
  const LayerCost one_d = cost("1d", w);
  const double value = 256.0 * 4;
  // Selective: no probabilities kept; a block's input gradient rebuilds them (on its workspace),
  // a forward holds them while the attention runs.
  const ChunkActivations sel = chunk_activations(one_d, w, 4, false, ActivationModel::trellis);
  CHECK(sel.after_forward == (256 + 4 * 2564) * value);
  CHECK(sel.peak_in_backward == sel.after_forward + (256 + 2048 + 512) * value);
  CHECK(sel.peak_in_forward == sel.after_forward + 512 * value);
  CHECK(sel.sent_output == 0.0);

  // Full, uniform, groups of 2 over 4 blocks, no head: the chunk input and the second group's
  // input; the chunk's output only its send holds.
  w.recompute = {Recompute::full, RecomputeMethod::uniform, 2};
  const ChunkActivations full = chunk_activations(one_d, w, 4, false, ActivationModel::trellis);
  CHECK(full.after_forward == 512 * value);
  CHECK(full.sent_output == 256 * value);
  CHECK(full.after_input == (4 * 2560 + 256) * value);
  // Whole backward: the top group rebuilt (2 stashes) over both inputs, the gradient and the
  // workspace on top.
  CHECK(full.peak_in_backward == (2 * 256 + 2 * 3076 + 256 + 2048) * value);
  // Split backward: the bottom group is rebuilt while the top group's blocks wait for their
  // weight gradients.
  CHECK(full.peak_in_input == (2 * 2560 + 256 + 2 * 3076 + 256 + 2048) * value);
  // A group's forward: both inputs, the previous block's output and one whole stash at once.
  CHECK(full.peak_in_forward == (2 * 256 + 256 + 3076) * value);

  // Full, block 1, with the head: the first block recomputed, the other 3 keep their stash, and
  // the first one also holds the group's output as its input.
  w.recompute = {Recompute::full, RecomputeMethod::block, 1};
  const ChunkActivations block = chunk_activations(one_d, w, 4, true, ActivationModel::trellis);
  const double head = 256 + 2 + 25600 + 3;
  CHECK(block.after_forward == (256 + 256 + 3 * 3076 + head) * value);
  CHECK(block.sent_output == 0.0);
  // The head's backward (its workspace 2 h) over everything: the logits dwarf the blocks.
  CHECK(block.peak_in_backward == block.after_forward + 512 * value);
}

TEST_CASE("the walk of a rank's actions finds the most activations it holds") {
  // Rank 0 of a 1F1B pipeline of 2 with 3 microbatches: F0 F1 B0 F2 B1 B2: two alive at most.
  PipelinePlan plan;
  plan.pipeline_size = 1;
  plan.microbatches = 3;
  plan.stage_rank = {0};
  using A = ActionType;
  plan.per_rank = {
      {{0, A::F, 0}, {0, A::F, 1}, {0, A::B, 0}, {0, A::F, 2}, {0, A::B, 1}, {0, A::B, 2}}};
  ChunkActivations c;
  c.after_forward = 10;
  c.after_input = 4;
  c.peak_in_backward = 13;  // 3 of workspace during a backward
  c.peak_in_input = 13;
  std::vector<ActivationPeak> peaks = activation_peaks(plan, {c});
  CHECK(peaks[0].alive == 2);
  CHECK(peaks[0].bytes == 23.0);  // one held (10) while the other's backward peaks (13)
  // Split backward: I trades 10 for 4; W frees it. F0 F1 I0 F2 W0 I1 ...: 10 + 10 -> I0 peak 23,
  // then 4 + 10, F2 -> 24, W0 -> 20, I1 -> 4 + 3 + 10 + 10 = 23 ...
  plan.per_rank = {{{0, A::F, 0},
                    {0, A::F, 1},
                    {0, A::I, 0},
                    {0, A::F, 2},
                    {0, A::W, 0},
                    {0, A::I, 1},
                    {0, A::W, 1},
                    {0, A::I, 2},
                    {0, A::W, 2}}};
  peaks = activation_peaks(plan, {c});
  CHECK(peaks[0].alive == 3);
  CHECK(peaks[0].bytes == 24.0);
}

TEST_CASE("a forward's output that only its send holds lives through the next action") {
  PipelinePlan plan;
  plan.pipeline_size = 1;
  plan.microbatches = 2;
  plan.stage_rank = {0};
  using A = ActionType;
  plan.per_rank = {{{0, A::F, 0}, {0, A::F, 1}, {0, A::B, 0}, {0, A::B, 1}}};
  ChunkActivations c;
  c.after_forward = 10;
  c.sent_output = 2;
  c.peak_in_forward = 11;
  c.peak_in_backward = 13;
  // F0 -> 10 (+2 sending); F1 runs on 12: 23, ends at 22 + 2; B0 runs on 10 + 10 + 2: 25.
  CHECK(activation_peaks(plan, {c})[0].bytes == 25.0);
  c.sent_output = 0;
  CHECK(activation_peaks(plan, {c})[0].bytes == 23.0);
}
