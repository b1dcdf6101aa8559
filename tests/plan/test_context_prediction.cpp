// Context parallelism in the planner (plan/context_work.h, trellis/context_cost.h): the cost
// descriptions of context/ring, context/a2a and context/allgather (as the test plugins
// plan-ring, plan-a2a and plan-allgather of tests/plan/context_modes describe them) composed with
// the 1d family's, checked against what the modes are: a rank's non-attention activations fall
// as 1/c, the ring keeps no T x T probabilities, all-gather keeps the whole sequence's K/V,
// all-to-all moves less than the ring, the attention work is shared, the gradients reduce over
// data x context, and the search ranks context layouts.
#include <doctest/doctest.h>

#include <algorithm>

#include "build_tree_families.h"
#include "plan/cluster_file.h"
#include "plan/context_work.h"
#include "plan/layout_search.h"
#include "plan/prediction_inputs.h"
#include "plan/step_prediction.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

const PluginRegistry& plugins() {
  static const PluginRegistry registry = PluginRegistry::discover(
      {{TRELLIS_TEST_PLUGIN_DIR, "build tree"}, {TRELLIS_TEST_CONTEXT_PLUGIN_DIR, "test modes"}});
  return registry;
}

ClusterSpec a100() {
  return read_cluster_file(std::string(TRELLIS_SOURCE_DIR) + "/configs/clusters/a100-80gb.toml");
}

// A long-sequence model in fp32 (e = 4 on a cluster trained in fp32).
PlanRequest request(int context, const std::string& mode, std::int64_t seq_len = 4096) {
  PlanRequest r;
  r.dims.vocab_size = 1024;
  r.dims.padded_vocab = 1024;
  r.dims.seq_len = seq_len;
  r.dims.max_seq_len = seq_len;
  r.dims.layers = 4;
  r.dims.heads = 16;
  r.dims.hidden = 1024;
  r.global_batch = 8;
  r.layout.context = context;
  r.layout.context_mode = mode;
  r.layout.micro_batch = 1;
  r.registry = &plugins();
  r.precision = precision_for("fp32");
  return r;
}

constexpr double kE = 4.0;  // bytes a value (fp32)

// The 1d family's attention probabilities of one layer, one microbatch, in bytes: a s / t values
// for each of b s tokens.
double probabilities_bytes(const PlanRequest& r) {
  const double s = static_cast<double>(r.dims.seq_len);
  return static_cast<double>(r.dims.heads) * s / r.layout.tensor * r.layout.micro_batch * s * kE;
}

// The context collectives' seconds a step, exposed and hidden.
double context_traffic(const Prediction& p) {
  return p.time.context_comm + p.time.context_comm_hidden;
}

}  // namespace

TEST_CASE("ring: a layer's activations outside attention fall as 1/c; no T x T probabilities") {
  const Prediction one = predict(request(1, "plan-ring"), a100());
  const double outside_attention = one.per_layer_activation - probabilities_bytes(request(1, ""));
  CHECK(outside_attention > 0);
  for (int c : {2, 4, 8}) {
    CAPTURE(c);
    const PlanRequest r = request(c, "plan-ring");
    const Prediction p = predict(r, a100());
    // The ring's own stash: a copy of its output (h values) and a fp32 log-sum-exp per head and
    // token of the rank.
    const double tokens = static_cast<double>(r.dims.seq_len) / c;
    const double own = static_cast<double>(r.dims.heads) * 4.0 * tokens +
                       static_cast<double>(r.dims.hidden) * tokens * kE;
    CHECK(p.per_layer_activation - own == doctest::Approx(outside_attention / c));
  }
  // Nothing grows as T^2: doubling the sequence doubles a layer's activations exactly.
  const Prediction t4k = predict(request(4, "plan-ring", 4096), a100());
  const Prediction t8k = predict(request(4, "plan-ring", 8192), a100());
  CHECK(t8k.per_layer_activation == doctest::Approx(2.0 * t4k.per_layer_activation));
  // Without context parallelism it does more (the probabilities are T^2).
  const Prediction o8k = predict(request(1, "", 8192), a100());
  CHECK(o8k.per_layer_activation > 2.5 * one.per_layer_activation);
}

TEST_CASE("all-gather keeps the whole sequence's K/V; all-to-all the probabilities of its heads") {
  const int c = 4;
  const PlanRequest ring = request(c, "plan-ring");
  const double h = static_cast<double>(ring.dims.hidden),
               s = static_cast<double>(ring.dims.seq_len);
  const Prediction r = predict(ring, a100());
  const Prediction ag = predict(request(c, "plan-allgather"), a100());
  // K and V of all T tokens of the sequence (2 h values each), beyond the ring's stash.
  CHECK(ag.per_layer_activation - r.per_layer_activation == doctest::Approx(2 * h * s * kE));
  // all-to-all: a / c heads' T x T probabilities (1/c of the whole) and those heads' q, k, v for
  // all T tokens (3 h / c values a token), where the ring keeps its log-sum-exp and a copy of
  // its output.
  const Prediction a2a = predict(request(c, "plan-a2a"), a100());
  const double ring_own = static_cast<double>(ring.dims.heads) * 4.0 * s / c + h * s / c * kE;
  CHECK(a2a.per_layer_activation - r.per_layer_activation ==
        doctest::Approx(probabilities_bytes(request(1, "")) / c + 3 * h * s / c * kE - ring_own));
}

TEST_CASE("attention's work and every token-wise layer's are shared: a rank does 1/c") {
  const ClusterSpec cluster = a100();
  const PredictionInputs one = prediction_inputs(request(1, ""), cluster);
  for (const char* mode : {"plan-ring", "plan-a2a", "plan-allgather"}) {
    for (int c : {2, 4}) {
      CAPTURE(mode);
      CAPTURE(c);
      const PredictionInputs in = prediction_inputs(request(c, mode), cluster);
      // One stage: every block, the embedding and the head; with causal load balancing the
      // scores split evenly too, so each pass is exactly 1/c of the one-rank pass.
      const PassWork& w = in.stages[0].work;
      const PassWork& w1 = one.stages[0].work;
      CHECK(w.forward.flops == doctest::Approx(w1.forward.flops / c));
      CHECK(w.backward_input.flops == doctest::Approx(w1.backward_input.flops / c));
      CHECK(w.backward_weight.flops == doctest::Approx(w1.backward_weight.flops / c));
      CHECK(w.forward.bytes == doctest::Approx(w1.forward.bytes / c));
      // What the context's transfers may hide behind: the 4 blocks' share of the scores.
      CHECK(w.forward.attention_flops == doctest::Approx(4 * one.cost.attention_core.flops / c));
    }
  }
}

TEST_CASE("all-to-all moves less than the ring; the ring hides its transfers behind attention") {
  const ClusterSpec cluster = a100();
  const Prediction ring = predict(request(4, "plan-ring"), cluster);
  const Prediction a2a = predict(request(4, "plan-a2a"), cluster);
  const Prediction ag = predict(request(4, "plan-allgather"), cluster);
  CHECK(context_traffic(a2a) > 0);
  CHECK(context_traffic(a2a) < context_traffic(ring));
  // The ring's K/V blocks move while the block in hand is attended to: at T = 4096 on NVLink the
  // attention takes longer than a block's transfer, so none of it is exposed.
  CHECK(ring.time.context_comm_hidden > 0);
  CHECK(ring.time.context_comm == doctest::Approx(0.0));
  // All-to-all and all-gather are waited for.
  CHECK(a2a.time.context_comm_hidden == 0);
  CHECK(ag.time.context_comm_hidden == 0);
  CHECK(ag.time.context_comm > 0);
  // Without context parallelism nothing moves.
  const Prediction one = predict(request(1, ""), cluster);
  CHECK(context_traffic(one) == 0);
}

TEST_CASE("the context group's link follows the rank order; gradients reduce over data x context") {
  const ClusterSpec cluster = a100();  // 8 GPUs a node
  PlanRequest r = request(2, "plan-ring");
  r.layout.tensor = 8;  // tp-cp-dp-pp: the two context ranks of a group sit on two nodes
  r.global_batch = 2;
  r.layout.data = 2;
  Prediction p = predict(r, cluster);
  CHECK(p.context_link.size == 2);
  CHECK(p.context_link.crosses_nodes());
  CHECK(p.data_link.size == 4);  // data x context
  r.layout.order = {ParallelDim::context, ParallelDim::tensor, ParallelDim::data,
                    ParallelDim::pipeline};
  p = predict(r, cluster);
  CHECK_FALSE(p.context_link.crosses_nodes());

  // ZeRO-1 shards the optimizer over data x context: d 2 x c 2 holds what d 4 holds.
  PlanRequest cd = request(2, "plan-ring");
  cd.layout.data = 2;
  cd.layout.zero = 1;
  PlanRequest d4 = request(1, "");
  d4.layout.data = 4;
  d4.layout.zero = 1;
  const Prediction a = predict(cd, cluster), b = predict(d4, cluster);
  CHECK(a.peak.parameter_count == doctest::Approx(b.peak.parameter_count));
  CHECK(a.peak.optimizer == doctest::Approx(b.peak.optimizer));
  CHECK(a.peak.optimizer < predict(request(2, "plan-ring"), cluster).peak.optimizer / 2);
}

TEST_CASE("a context mode without a cost, or a sequence that does not cut, cannot be predicted") {
  CHECK_THROWS_WITH_AS(predict(request(2, "plan-costless"), a100()),
                       doctest::Contains("does not describe its cost"), InputError);
  CHECK_THROWS_WITH_AS(predict(request(3, "plan-ring", 4096), a100()),
                       doctest::Contains("does not cut into 2 x context = 6 equal chunks"),
                       InputError);
}

TEST_CASE("the search tries context sizes and modes, and ranks them") {
  // 32K tokens a sequence: without context parallelism the T x T probabilities of even one
  // layer fill a device unless tensor 8 splits them.
  PlanRequest base = request(1, "plan-ring", 32768);
  base.dims.max_seq_len = 32768;
  SearchSpace space;
  space.world = 8;
  space.schedules = {"1f1b"};
  space.tensor_modes = {"1d"};
  space.context_modes = {"plan-ring", "plan-a2a", "plan-allgather", "plan-costless"};
  const SearchResult result = search_layouts(base, a100(), &plugins(), space);
  REQUIRE_FALSE(result.ranked.empty());
  CHECK(result.ranked.front().layout.context > 1);
  std::vector<std::string> modes;
  std::vector<int> sizes;
  for (const Prediction& p : result.ranked) {
    if (p.layout.context > 1) modes.push_back(p.layout.context_mode);
    sizes.push_back(p.layout.context);
    CHECK(p.layout.world() == 8);
  }
  for (const char* mode : {"plan-ring", "plan-a2a", "plan-allgather"})
    CHECK(std::count(modes.begin(), modes.end(), mode) > 0);
  CHECK(std::count(modes.begin(), modes.end(), "plan-costless") == 0);
  for (int c : {2, 4, 8}) CHECK(std::count(sizes.begin(), sizes.end(), c) > 0);
  const bool noted = std::any_of(result.notes.begin(), result.notes.end(), [](const auto& n) {
    return n.find("context mode 'plan-costless'") != std::string::npos &&
           n.find("does not describe its cost: not searched") != std::string::npos;
  });
  CHECK(noted);
  // Ranked fastest first.
  for (std::size_t i = 1; i < result.ranked.size(); ++i)
    CHECK(result.ranked[i - 1].tokens_per_s >= result.ranked[i].tokens_per_s);

  // A sequence of 72 tokens cuts into 2c equal chunks for c = 1, 2, 4, not 8 (16 chunks); a2a
  // needs heads % (tensor x context) == 0 (its check).
  PlanRequest short_seq = request(1, "plan-ring", 72);
  short_seq.dims.heads = 2;
  short_seq.dims.hidden = 128;
  const SearchResult small = search_layouts(short_seq, a100(), &plugins(), space);
  REQUIRE_FALSE(small.ranked.empty());
  for (const Prediction& p : small.ranked) {
    CHECK(p.layout.context != 8);
    if (p.layout.context_mode == "plan-a2a" && p.layout.context > 1)
      CHECK(2 % (p.layout.tensor * p.layout.context) == 0);
  }
}
