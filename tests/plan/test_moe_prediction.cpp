// Mixture of experts in the planner (plan/moe_work.h, trellis/moe_cost.h,
// trellis/dispatch_cost.h): the 1d and seq families' MoE blocks and the alltoall and allgather
// dispatchers' costs composed into predictions, checked against what the model is: the
// parameters a rank holds equal train/model_flops.h's count of the model (and its expert share
// under expert parallelism), the experts' optimizer state shards over expert-data, the MoE
// block's matrix work grows with top_k and not with the experts, dispatch moves each rank's
// routed rows over the expert group only under expert parallelism, blocks differ within a chunk
// (moe_every), and the search tries the expert sizes a model allows.
#include <doctest/doctest.h>

#include <algorithm>

#include "plan/activation_memory.h"
#include "plan/cluster_file.h"
#include "plan/layout_search.h"
#include "plan/prediction_inputs.h"
#include "plan/step_prediction.h"
#include "train/model_flops.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using namespace trellis::plan;

namespace {

const PluginRegistry& plugins() {
  static const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_PLUGIN_DIR, "build tree"}});
  return registry;
}

ClusterSpec a100() {
  return read_cluster_file(std::string(TRELLIS_SOURCE_DIR) + "/configs/clusters/a100-80gb.toml");
}

// A small MoE model in fp32: 4 layers, 8 experts, top 2, every block MoE unless `every`.
PlanRequest request(int data, int expert, std::int64_t every = 1) {
  PlanRequest r;
  r.dims.vocab_size = 1024;
  r.dims.padded_vocab = 1024;
  r.dims.seq_len = 512;
  r.dims.max_seq_len = 512;
  r.dims.layers = 4;
  r.dims.heads = 8;
  r.dims.hidden = 512;
  r.moe.experts = 8;
  r.moe.top_k = 2;
  r.moe.every = every;
  r.global_batch = 8;
  r.layout.data = data;
  r.layout.expert = expert;
  r.layout.micro_batch = 1;
  r.registry = &plugins();
  r.precision = precision_for("fp32");
  return r;
}

double expert_mlp_parameters(const PlanRequest& r, int tensor = 1) {
  const double h = static_cast<double>(r.dims.hidden);
  return 8.0 * h * h / tensor + 4.0 * h / tensor + h;
}

}  // namespace

TEST_CASE("one rank holds the model's parameters as the trainer counts them") {
  for (std::int64_t every : {1, 2, 3}) {
    CAPTURE(every);
    const PlanRequest r = request(1, 1, every);
    const Prediction p = predict(r, a100());
    CHECK(p.peak.parameter_count ==
          doctest::Approx(static_cast<double>(parameter_count(r.dims, r.moe))).epsilon(1e-12));
    CHECK(p.model_parameters == static_cast<double>(parameter_count(r.dims, r.moe)));
    CHECK(p.active_parameters == static_cast<double>(active_parameter_count(r.dims, r.moe)));
    // Every parameter of an MoE block's experts is an expert parameter.
    const double moe_blocks = static_cast<double>((r.dims.layers + every - 1) / every);
    CHECK(p.peak.expert_parameter_count ==
          doctest::Approx(moe_blocks * 8 * expert_mlp_parameters(r)));
  }
}

TEST_CASE(
    "expert parallelism: each rank holds E/ep experts; ZeRO-1 shards theirs over expert-data") {
  const Prediction whole = predict(request(4, 1), a100());
  for (int ep : {2, 4}) {
    CAPTURE(ep);
    PlanRequest r = request(4, ep);
    const Prediction p = predict(r, a100());
    CHECK(p.peak.expert_parameter_count == doctest::Approx(whole.peak.expert_parameter_count / ep));
    CHECK(p.peak.parameter_count - p.peak.expert_parameter_count ==
          doctest::Approx(whole.peak.parameter_count - whole.peak.expert_parameter_count));
    CHECK(p.expert_link.size == ep);
    CHECK(p.expert_data_link.size == 4 / ep);
    r.layout.zero = 1;
    const Prediction z = predict(r, a100());
    const Precision& prec = z.precision;
    const double share = prec.optimizer_bytes + prec.sharded_extra_bytes;
    const double dense = z.peak.parameter_count - z.peak.expert_parameter_count;
    CHECK(z.peak.optimizer ==
          doctest::Approx(dense * share / 4 + z.peak.expert_parameter_count * share / (4 / ep)));
  }
}

TEST_CASE("an MoE block's matrix work grows with top_k, not with the experts") {
  PlanRequest r = request(1, 1);
  const PredictionInputs one = prediction_inputs(r, a100());
  const double h = static_cast<double>(r.dims.hidden);
  const double tokens = static_cast<double>(r.dims.seq_len);
  const double mlp = 16.0 * tokens * h * h;  // one pass of the dense MLP
  const double router = 2.0 * tokens * h * r.moe.experts;
  CHECK(one.moe->layer.block.forward.flops ==
        doctest::Approx(one.cost.block.forward.flops + mlp + router));
  r.moe.experts = 64;
  r.moe.top_k = 1;
  const PredictionInputs many = prediction_inputs(r, a100());
  CHECK(many.moe->layer.block.forward.flops ==
        doctest::Approx(many.cost.block.forward.flops + 2.0 * tokens * h * 64));
  // A capacity below 1 keeps that share of the choices (balanced routing).
  r.moe.capacity_factor = 0.5;
  CHECK(prediction_inputs(r, a100()).moe->block.routed_rows == doctest::Approx(0.5));
}

TEST_CASE("dispatch moves the routed rows over the expert group only under expert parallelism") {
  const Prediction none = predict(request(2, 1), a100());
  CHECK(none.time.expert_comm == 0.0);
  const PredictionInputs in = prediction_inputs(request(2, 2), a100());
  REQUIRE(in.moe->dispatch.has_value());
  const double rows = 2.0 * 512 * 512 * 4.0;  // k x tokens x h x 4 bytes
  const auto& f = in.moe->dispatch->forward.collectives;
  REQUIRE(f.size() == 2);
  CHECK(f[0].op == CollectiveKind::all_gather);  // the counts
  CHECK(f[1].op == CollectiveKind::all_to_all);
  CHECK(f[1].bytes == doctest::Approx(rows));
  CHECK(f[1].count == 2);  // dispatch and combine
  const Prediction p = predict(request(2, 2), a100());
  CHECK(p.time.expert_comm > 0.0);

  PlanRequest gather = request(2, 2);
  gather.layout.expert_dispatcher = "allgather";
  const PredictionInputs g = prediction_inputs(gather, a100());
  const auto& gf = g.moe->dispatch->forward.collectives;
  REQUIRE(gf.size() == 3);
  CHECK(gf[1].op == CollectiveKind::all_gather);
  CHECK(gf[1].bytes == doctest::Approx(2 * rows));  // ep x the rows
  CHECK(gf[2].op == CollectiveKind::reduce_scatter);
  // All-gather moves ep times what all-to-all moves: slower on the same link.
  CHECK(predict(gather, a100()).time.expert_comm > p.time.expert_comm);
}

TEST_CASE("a chunk of dense and MoE blocks walks each block's own stash") {
  const PredictionInputs mixed = prediction_inputs(request(1, 1, 2), a100());
  const PredictionInputs all = prediction_inputs(request(1, 1, 1), a100());
  const double e = 4.0 * 512;  // bytes a value a token (fp32 x tokens)
  const BlockStash& dense = mixed.cost.block_stash;
  const BlockStash& moe = mixed.moe->layer.block_stash;
  CHECK(moe.after_forward > dense.after_forward);
  // Blocks 0 and 2 MoE, 1 and 3 dense: the chunk holds two of each after the forward.
  const double head = mixed.cost.head_stash.after_forward;
  CHECK(mixed.stages[0].activations.after_forward ==
        doctest::Approx(e * (dense.chunk_input + 2 * (dense.after_forward + moe.after_forward) +
                             4 * dense.attention_probabilities + head)));
  CHECK(all.stages[0].activations.after_forward ==
        doctest::Approx(e * (dense.chunk_input +
                             4 * (moe.after_forward + dense.attention_probabilities) + head)));
  // The same stash for every block walks as the uniform form does.
  ActivationShape shape = all.shape;
  const ChunkActivations uniform =
      chunk_activations(all.cost, shape, 4, true, ActivationModel::trellis);
  const ChunkActivations listed =
      chunk_activations(all.cost, shape, std::vector<BlockMemory>(4, {all.cost.block_stash}), true,
                        ActivationModel::trellis);
  CHECK(uniform.peak_in_backward == listed.peak_in_backward);
  CHECK(uniform.after_forward == listed.after_forward);
}

TEST_CASE("bad expert layouts are refused with the reason") {
  PlanRequest r = request(4, 3);
  CHECK_THROWS_WITH_AS(predict(r, a100()), doctest::Contains("must divide the experts"),
                       InputError);
  r = request(4, 2);
  r.moe.experts = 0;
  CHECK_THROWS_WITH_AS(predict(r, a100()), doctest::Contains("needs a model with experts"),
                       InputError);
  r = request(2, 1);
  r.layout.tensor = 4;
  r.layout.tensor_mode = "2d";
  r.dims.padded_vocab = 1024;
  CHECK_THROWS_WITH_AS(predict(r, a100()), doctest::Contains("MoE block"), InputError);
}

TEST_CASE("the search tries every expert size dividing data and the experts") {
  PlanRequest base = request(1, 1);
  base.global_batch = 16;
  SearchSpace space;
  space.world = 8;
  space.tensor_modes = {"1d"};
  space.schedules = {"1f1b"};
  const SearchResult result = search_layouts(base, a100(), &plugins(), space);
  REQUIRE(!result.ranked.empty());
  std::vector<int> seen;
  for (const Prediction& p : result.ranked) {
    CHECK(p.layout.data % p.layout.expert == 0);
    CHECK(p.layout.context == 1);
    seen.push_back(p.layout.expert);
  }
  for (int ep : {1, 2, 4, 8}) CHECK(std::count(seen.begin(), seen.end(), ep) > 0);
  // A dense model searches expert 1 alone.
  base.moe.experts = 0;
  for (const Prediction& p : search_layouts(base, a100(), &plugins(), space).ranked)
    CHECK(p.layout.expert == 1);
}
