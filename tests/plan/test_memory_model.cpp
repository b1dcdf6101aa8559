// The memory model against values worked by hand: bytes per parameter by precision and ZeRO,
// parameters per piece, Korthikanti et al.'s per-layer activations, Trellis's stash, and the
// walk of a rank's actions that finds its activation peak.
#include <doctest/doctest.h>

#include "plan/activation_memory.h"
#include "plan/activation_timeline.h"
#include "plan/parameter_count.h"
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
  // 12 h^2 / t + 7 h / t + 6 h at h = 256, t = 2: 393216 + 896 + 1536
  CHECK(block_parameters(d, 2, TensorMode::one_d) == 395648.0);
  CHECK(block_parameters(d, 2, TensorMode::seq) == 395648.0);
  CHECK(block_parameters(d, 4, TensorMode::two_d) ==
        doctest::Approx((12.0 * 65536 + 13 * 256) / 4));
  CHECK(embedding_parameters(d, 2, TensorMode::one_d) == 512.0 * 256 / 2 + 128.0 * 256);
  CHECK(head_parameters(d, 2, TensorMode::one_d, false) == 512.0);
  CHECK(head_parameters(d, 2, TensorMode::one_d, true) == 512.0 + 512.0 * 256 / 2);
  // One rank holding everything is the model itself (train/model_flops.h's count).
  const double whole = d.layers * block_parameters(d, 1, TensorMode::one_d) +
                       embedding_parameters(d, 1, TensorMode::one_d) +
                       head_parameters(d, 1, TensorMode::one_d, false);
  CHECK(whole == static_cast<double>(parameter_count(d)));
}

namespace {

WorkShape shape(std::int64_t b, std::int64_t s, std::int64_t h, std::int64_t a, int t,
                TensorMode mode, Recompute r = Recompute::none, double e = 2) {
  WorkShape w;
  w.micro_batch = b;
  w.seq_len = s;
  w.hidden = h;
  w.heads = a;
  w.vocab = 51200;
  w.tensor = t;
  w.mode = mode;
  w.recompute = r;
  w.activation_bytes = e;
  return w;
}

}  // namespace

TEST_CASE("Korthikanti et al.'s activations per layer (s 2048, b 1, h 4096, a 32)") {
  // s b h = 8,388,608; 5 a s / h = 80.
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 1, TensorMode::one_d)) ==
        8388608.0 * 114);  // 34 + 80
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, TensorMode::one_d)) ==
        8388608.0 * 23);  // 10 + 24/8 + 80/8
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, TensorMode::seq)) ==
        8388608.0 / 8 * 114);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, TensorMode::one_d,
                                               Recompute::selective)) == 8388608.0 * 13);
  CHECK(published_layer_activation_bytes(shape(1, 2048, 4096, 32, 8, TensorMode::seq,
                                               Recompute::selective)) == 34.0 * 8388608 / 8);
  CHECK(published_layer_activation_bytes(
            shape(1, 2048, 4096, 32, 8, TensorMode::one_d, Recompute::full)) == 2.0 * 8388608);
  CHECK(published_layer_activation_bytes(
            shape(1, 2048, 4096, 32, 8, TensorMode::seq, Recompute::full)) == 2.0 * 8388608 / 8);
}

TEST_CASE("Trellis's stash per layer: e [s b h (4 + 12/t) + 4 s b + a s^2 b / t]") {
  // b 2, s 128, h 256, a 8, t 2, f32: per token 4 h + 12 h / t + 4 + a s / t
  // = 1024 + 1536 + 4 + 512 = 3076 values; 256 tokens x 4 bytes.
  const WorkShape w = shape(2, 128, 256, 8, 2, TensorMode::one_d, Recompute::none, 4);
  CHECK(trellis_layer_activation_bytes(w) == 3076.0 * 256 * 4);
  // seq: every term a 1/t shard: 16 h / t + 4 / t + a s / t = 2048 + 2 + 512.
  CHECK(trellis_layer_activation_bytes(
            shape(2, 128, 256, 8, 2, TensorMode::seq, Recompute::none, 4)) == 2562.0 * 256 * 4);
  // Full recomputation keeps the layer's input.
  CHECK(trellis_layer_activation_bytes(
            shape(2, 128, 256, 8, 2, TensorMode::one_d, Recompute::full, 4)) == 256.0 * 256 * 4);
}

TEST_CASE("a chunk's activations: after forward, after the input gradient, at its peaks") {
  const WorkShape w = shape(2, 128, 256, 8, 2, TensorMode::one_d, Recompute::none, 4);
  const double value = 256.0 * 4;  // one value a token, in bytes
  const ChunkActivations c = chunk_activations(w, 2, false, ActivationModel::trellis);
  CHECK(c.per_layer == 3076 * value);
  CHECK(c.after_forward == (2 * 3076 + 256) * value);  // two layers and the chunk's input
  // (4 h + 12 h / t) a layer for the weight gradient, and the gradient that arrived.
  CHECK(c.after_input == (2 * 2560 + 256) * value);
  // The top layer's workspace (4 h + 8 h / t) and the arriving gradient on top.
  CHECK(c.peak_in_backward == c.after_forward + (256 + 1024 + 1024) * value);
  CHECK(c.peak_in_input == c.peak_in_backward);
  // With the head: its logits (V / t a token) are held until its backward.
  const ChunkActivations h = chunk_activations(w, 2, true, ActivationModel::trellis);
  CHECK(h.after_forward == c.after_forward + (256 + 2 + 25600 + 3) * value);
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
