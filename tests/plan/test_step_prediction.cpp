// The step prediction put together (step_prediction.h), on layouts small enough to add up by
// hand from the pieces tested elsewhere: one rank; data parallel with its reduction; ranks
// sharing devices; a two-stage pipeline; memory per rank.
#include <doctest/doctest.h>

#include "build_tree_families.h"
#include "plan/collective_cost.h"
#include "plan/layer_work.h"
#include "plan/step_prediction.h"
#include "train/model_flops.h"
#include "trellis/error.h"
#include "trellis/pipeline_plan.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using namespace trellis::plan;
using trellis::plan::test::build_tree_plugins;

namespace {

ClusterSpec machine() {
  ClusterSpec c;
  c.name = "test";
  c.nodes = 1;
  c.devices_per_node = 2;
  c.accelerator.kind = AcceleratorKind::gpu;
  c.accelerator.peak_flops["fp32"] = 1e12;
  c.accelerator.train_dtype = "fp32";
  c.accelerator.memory_bytes = 1e9;
  c.accelerator.memory_bandwidth = 1e11;
  c.accelerator.compute_efficiency = 0.5;
  c.accelerator.memory_efficiency = 0.5;
  c.intra_node = {1e10, 1e-5, 1.0};
  c.inter_node = {1e9, 1e-4, 1.0};
  return c;
}

PlanRequest request(int data, std::int64_t global_batch) {
  PlanRequest r;
  r.dims.vocab_size = 128;
  r.dims.padded_vocab = 128;
  r.dims.seq_len = 32;
  r.dims.max_seq_len = 32;
  r.dims.layers = 2;
  r.dims.heads = 4;
  r.dims.hidden = 64;
  r.global_batch = global_batch;
  r.layout.data = data;
  r.layout.micro_batch = 2;
  r.registry = &build_tree_plugins();
  return r;
}

// The request's family (1d) as its plugin describes it, in fp32.
LayerCost cost_of(const PlanRequest& r) {
  return family_cost(r.registry, r.dims, r.architecture(), r.layout, 4);
}

double seconds(const ActionWork& w) {
  return w.flops / 5e11 + w.bytes / 5e10;  // the machine's rates at 50%
}

}  // namespace

TEST_CASE("one rank: microbatches x (forward + backward), then the optimizer") {
  const PlanRequest r = request(1, 4);  // 2 microbatches of 2
  const Prediction p = predict(r, machine());
  const LayerCost w = cost_of(r);
  PassWork all = block_work(w, Recompute::none).scaled(2);
  all += embedding_work(w);
  all += head_work(w);
  const double F = seconds(all.forward);
  const double B = seconds(all.backward_input) + seconds(all.backward_weight);
  const double P = static_cast<double>(parameter_count(r.dims));
  // Gradients zeroed (4), norm (4), clipping (8) and AdamW (28) bytes a parameter.
  const double optimizer = 44.0 * P / 5e10;
  CHECK(p.microbatches == 2);
  CHECK(p.time.forward == doctest::Approx(F));
  CHECK(p.time.step == doctest::Approx(2 * (F + B) + optimizer));
  CHECK(p.time.bubble == doctest::Approx(0.0));
  CHECK(p.tokens_per_s == doctest::Approx(4 * 32 / p.time.step));
  CHECK(p.mfu == doctest::Approx(flops_per_token(r.dims) * 128 / p.time.step / 1e12));
  // Memory: 16 bytes a parameter, the activations of one microbatch at a time, token ids.
  CHECK(p.peak.parameter_count == P);
  CHECK(p.peak.parameters + p.peak.gradients + p.peak.optimizer == 16 * P);
  CHECK(p.peak.alive == 1);
  CHECK(p.peak.other == 2 * 4 * 2 * 32 * 2);
  CHECK(p.fits);
}

TEST_CASE("data parallel: the gradients' all-reduce after the backward, the sync all-reduces") {
  const PlanRequest r = request(2, 4);  // 1 microbatch per data rank
  const Prediction p = predict(r, machine());
  const PlanRequest one = request(1, 2);
  const Prediction alone = predict(one, machine());
  const double P = static_cast<double>(parameter_count(r.dims));
  const double reduction = collective_seconds(Collective::all_reduce, 2, 4 * P, 1e-5, 1e10);
  const double sync = 3 * collective_seconds(Collective::all_reduce, 2, 4, 1e-5, 1e10);
  CHECK(p.time.data_comm == doctest::Approx(reduction));
  CHECK(p.time.data_comm_exposed ==
        doctest::Approx(reduction));  // one stage: nothing to hide behind
  CHECK(p.time.step == doctest::Approx(alone.time.step + reduction + sync));
  // zero 1: a reduce-scatter, AdamW on half, then the parameters all-gathered.
  PlanRequest z = r;
  z.layout.zero = 1;
  const Prediction sharded = predict(z, machine());
  CHECK(sharded.time.data_comm ==
        doctest::Approx(collective_seconds(Collective::reduce_scatter, 2, 4 * P, 1e-5, 1e10)));
  CHECK(sharded.peak.optimizer == doctest::Approx(P * 12 / 2));
}

TEST_CASE("ranks sharing devices take turns: 4 ranks on 2 devices") {
  ClusterSpec cpu = machine();
  cpu.accelerator.kind = AcceleratorKind::cpu;
  PlanRequest r = request(4, 8);
  r.layout.threads = 1;
  const Prediction p = predict(r, cpu);
  CHECK(p.placement.oversubscription == 2.0);
  const Prediction alone = predict(request(1, 2), machine());
  // Each rank's work once, two ranks a device: at least twice one rank's step.
  CHECK(p.time.step >= 2 * alone.time.step);
  CHECK(p.time.shared_devices > 0.0);
  // Two ranks a device take turns while they work: the step on a node with a device a rank,
  // plus the busiest rank's work once more (no pipeline here, so no bubble to leave out).
  ClusterSpec roomy = cpu;
  roomy.devices_per_node = 4;
  const Prediction own = predict(r, roomy);
  CHECK(own.placement.oversubscription == 1.0);
  CHECK(own.time.shared_devices == 0.0);
  const double work = own.time.compute + own.time.tensor_comm + own.time.optimizer;
  CHECK(p.time.shared_devices == doctest::Approx(work));
  CHECK(p.time.step == doctest::Approx(own.time.step + work));
}

TEST_CASE("ranks sharing devices: tensor collectives also poll for descheduled peers") {
  ClusterSpec cpu = machine();
  cpu.accelerator.kind = AcceleratorKind::cpu;
  PlanRequest r = request(2, 8);  // tensor 2 x data 2 = 4 ranks on 2 devices, 2 microbatches
  r.layout.tensor = 2;
  r.layout.threads = 1;
  const Prediction p = predict(r, cpu);
  REQUIRE(p.placement.oversubscription == 2.0);
  ClusterSpec roomy = cpu;
  roomy.devices_per_node = 4;
  const Prediction own = predict(r, roomy);
  // Every tensor collective of a step: half the time the peer is not running, and the wait
  // polls 200 us + 4 ns a byte (the mpi backend), taking turns too: once each in all.
  const LayerCost w = cost_of(r);  // at tensor 2
  PassWork all = block_work(w, Recompute::none).scaled(2);
  all += embedding_work(w);
  all += head_work(w);
  double polling = 0.0;
  for (const ActionWork* pass : {&all.forward, &all.backward_input, &all.backward_weight})
    for (const CommCall& c : pass->comm) polling += c.count * (200e-6 + 4e-9 * c.bytes);
  polling *= 2;  // microbatches
  CHECK(polling > 0.0);
  const double work = own.time.compute + own.time.tensor_comm + own.time.optimizer;
  CHECK(p.time.shared_devices == doctest::Approx(work + polling));
  CHECK(p.time.step == doctest::Approx(own.time.step + work + polling));
}

TEST_CASE("a two-stage pipeline: the schedule's simulated makespan, activations per rank") {
  const PluginRegistry& registry = build_tree_plugins();
  PlanRequest r = request(1, 8);  // 4 microbatches
  r.layout.pipeline = 2;
  auto schedule = registry.make_schedule("1f1b", {});
  const PipelinePlan plan = build_plan(*schedule, {2, 0, 4, 1});
  r.plan = &plan;
  const Prediction p = predict(r, machine());
  REQUIRE(p.memory.size() == 2);
  CHECK(p.memory[0].alive == 2);  // 1F1B: p - r in flight
  CHECK(p.memory[1].alive == 1);
  // Both ends hold the token table (the last stage a copy, tied); the first also the positions
  // (32 x 64), the last the final LayerNorm (2 x 64).
  CHECK(p.memory[1].parameter_count == p.memory[0].parameter_count - 32 * 64 + 2 * 64);
  CHECK(p.time.bubble > 0.0);
  CHECK(p.time.pipeline_message == doctest::Approx(collective_seconds(
                                       Collective::send_recv, 2, 4.0 * 2 * 32 * 64, 1e-5, 1e10)));
  CHECK(p.time.step > p.time.pipeline_makespan);
  // A plan for another pipeline is refused.
  r.layout.pipeline = 4;
  CHECK_THROWS_AS(predict(r, machine()), InputError);
}

TEST_CASE("layouts that do not divide the model are refused") {
  PlanRequest r = request(1, 4);
  r.layout.micro_batch = 3;
  CHECK_THROWS_AS(predict(r, machine()), InputError);
  r = request(1, 4);
  r.layout.virtual_stages = 2;
  CHECK_THROWS_AS(predict(r, machine()), InputError);
}
