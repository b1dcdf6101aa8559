#include "plan/step_prediction.h"

#include <algorithm>
#include <map>

#include "model/model_chunk.h"
#include "plan/activation_timeline.h"
#include "plan/collective_cost.h"
#include "plan/layer_work.h"
#include "plan/parameter_count.h"
#include "train/model_flops.h"
#include "trellis/error.h"
#include "trellis/simulator.h"

namespace trellis::plan {

namespace {

void check_request(const PlanRequest& r) {
  const LayoutChoice& l = r.layout;
  auto fail = [&](const std::string& why) {
    throw InputError("cannot predict " + l.describe() + ": " + why);
  };
  if (l.tensor < 1 || l.pipeline < 1 || l.data < 1 || l.virtual_stages < 1 || l.micro_batch < 1)
    fail("every size must be >= 1");
  if (l.virtual_stages > 1 && l.pipeline == 1) fail("virtual stages need a pipeline");
  if (r.dims.layers % (l.pipeline * l.virtual_stages) != 0)
    fail(std::to_string(r.dims.layers) + " layers do not split into " +
         std::to_string(l.pipeline * l.virtual_stages) + " stages");
  if (r.global_batch % (static_cast<std::int64_t>(l.micro_batch) * l.data) != 0)
    fail("global batch " + std::to_string(r.global_batch) +
         " is not a multiple of micro_batch x data");
  if (l.pipeline > 1 && r.plan == nullptr) fail("a pipeline needs its schedule's plan");
  if (r.plan != nullptr &&
      (r.plan->pipeline_size != l.pipeline || r.plan->virtual_stages != l.virtual_stages)) {
    fail("the plan is for another pipeline");
  }
}

// How long a wait of Trellis's mpi backend polls before it naps (backends/mpi/polling_work.cpp's
// spin_time): 200 us, plus 4 ns a byte of the operation, at most 1 s. On a node with more ranks
// than cores, a rank that reaches a collective before its peer (descheduled, sharing a core)
// keeps a core busy that long.
double wait_spin_seconds(double bytes) {
  return std::min(200e-6 + 4e-9 * bytes, 1.0);
}

// The grid rows and columns of every tensor group (2d): tensor rank k at row k / q, column k % q.
std::pair<std::vector<std::vector<int>>, std::vector<std::vector<int>>> grid_groups(
    const ParallelLayout& layout, int q) {
  std::vector<std::vector<int>> rows, columns;
  for (const std::vector<int>& group : layout.all_groups({ParallelDim::tensor})) {
    for (int i = 0; i < q; ++i) {
      std::vector<int> row, column;
      for (int j = 0; j < q; ++j) {
        row.push_back(group[static_cast<std::size_t>(i * q + j)]);
        column.push_back(group[static_cast<std::size_t>(j * q + i)]);
      }
      rows.push_back(row);
      columns.push_back(column);
    }
  }
  return {rows, columns};
}

}  // namespace

int devices_per_rank(const ClusterSpec& cluster, const LayoutChoice& layout) {
  if (cluster.accelerator.kind == AcceleratorKind::gpu) return 1;
  return layout.threads > 0 ? layout.threads : cluster.devices_per_node;
}

Prediction predict(const PlanRequest& request, const ClusterSpec& cluster) {
  check_request(request);
  const LayoutChoice& choice = request.layout;
  const ModelDims& dims = request.dims;
  Prediction out;
  out.layout = choice;
  out.precision =
      request.precision ? *request.precision : precision_for(cluster.accelerator.train_dtype);
  const Precision& prec = out.precision;
  const int t = choice.tensor, p = choice.pipeline, d = choice.data;
  const int m = static_cast<int>(request.global_batch / (choice.micro_batch * d));
  out.microbatches = m;

  const ParallelLayout layout(choice.sizes(), choice.order);
  const int rank_devices = devices_per_rank(cluster, choice);
  out.placement = place_ranks(cluster, layout.world_size(), rank_devices);
  out.tensor_link = group_link(cluster, out.placement, layout, {ParallelDim::tensor});
  out.data_link = group_link(cluster, out.placement, layout, {ParallelDim::data});
  out.pipeline_link = pipeline_link(cluster, out.placement, layout);
  GroupLink row_link = out.tensor_link, column_link = out.tensor_link;
  if (choice.tensor_mode == TensorMode::two_d && t > 1) {
    int q = 1;
    while (q * q < t) ++q;
    if (q * q != t)
      throw InputError("2d tensor parallelism needs a square tensor size, not " +
                       std::to_string(t));
    auto [rows, columns] = grid_groups(layout, q);
    row_link = link_of_groups(cluster, out.placement, rows);
    column_link = link_of_groups(cluster, out.placement, columns);
  }

  const double flop_rate =
      cluster.train_peak_flops() * cluster.accelerator.compute_efficiency * rank_devices;
  const double byte_rate =
      cluster.accelerator.memory_bandwidth * cluster.accelerator.memory_efficiency * rank_devices;
  auto comm_seconds = [&](const ActionWork& w) {
    double total = 0.0;
    for (const CommCall& c : w.comm) {
      const GroupLink& link = c.group == TensorGroupPart::row      ? row_link
                              : c.group == TensorGroupPart::column ? column_link
                                                                   : out.tensor_link;
      total += c.count * collective_seconds(c.op, link.size, c.bytes, link.latency, link.bandwidth);
    }
    return total;
  };
  auto spin_seconds = [&](const ActionWork& w) {
    double total = 0.0;
    for (const CommCall& c : w.comm) total += c.count * wait_spin_seconds(c.bytes);
    return total;
  };
  auto compute_seconds = [&](const ActionWork& w) {
    return w.flops / flop_rate + w.bytes / byte_rate;
  };

  WorkShape shape;
  shape.micro_batch = choice.micro_batch;
  shape.seq_len = dims.seq_len;
  shape.hidden = dims.hidden;
  shape.heads = dims.heads;
  shape.vocab = dims.padded_vocab;
  shape.tensor = t;
  shape.mode = choice.tensor_mode;
  shape.recompute = choice.recompute;
  shape.activation_bytes = prec.activation_bytes;
  const PassWork block = block_work(shape);
  const PassWork embedding = embedding_work(shape);
  const PassWork head = head_work(shape);

  const PipelinePlan single = single_stage_plan(m);
  const PipelinePlan& plan = request.plan != nullptr ? *request.plan : single;
  const int stages = plan.stages();
  const int last = stages - 1;
  const bool tied_copy = plan.stage_rank[0] != plan.stage_rank[static_cast<std::size_t>(last)];

  out.time.pipeline_message =
      p > 1 ? collective_seconds(Collective::send_recv, 2, pipeline_message_bytes(shape),
                                 out.pipeline_link.latency, out.pipeline_link.bandwidth)
            : 0.0;
  std::vector<ActionCosts> costs(static_cast<std::size_t>(stages));
  std::vector<ChunkActivations> activations(static_cast<std::size_t>(stages));
  std::vector<double> stage_params(static_cast<std::size_t>(stages), 0.0);
  std::vector<double> stage_comm_f(static_cast<std::size_t>(stages)),
      stage_comm_i(static_cast<std::size_t>(stages)),
      stage_comm_w(static_cast<std::size_t>(stages));
  std::vector<double> stage_spin_f(static_cast<std::size_t>(stages)),
      stage_spin_b(static_cast<std::size_t>(stages));
  for (int s = 0; s < stages; ++s) {
    const ChunkSpec spec = chunk_spec(static_cast<int>(dims.layers), stages, s);
    PassWork work = block.scaled(spec.blocks);
    double params = spec.blocks * block_parameters(dims, t, choice.tensor_mode);
    if (spec.has_embedding()) {
      work += embedding;
      params += embedding_parameters(dims, t, choice.tensor_mode);
    }
    if (spec.has_head()) {
      work += head;
      params += head_parameters(dims, t, choice.tensor_mode, tied_copy);
    }
    const auto i = static_cast<std::size_t>(s);
    stage_params[i] = params;
    stage_comm_f[i] = comm_seconds(work.forward);
    stage_comm_i[i] = comm_seconds(work.backward_input);
    stage_comm_w[i] = comm_seconds(work.backward_weight);
    stage_spin_f[i] = spin_seconds(work.forward);
    stage_spin_b[i] = spin_seconds(work.backward_input) + spin_seconds(work.backward_weight);
    ActionCosts& c = costs[i];
    c.forward = compute_seconds(work.forward) + stage_comm_f[i];
    c.backward_input = compute_seconds(work.backward_input) + stage_comm_i[i];
    c.backward_weight = compute_seconds(work.backward_weight) + stage_comm_w[i];
    c.backward = c.backward_input + c.backward_weight;
    c.latency = out.time.pipeline_message;
    out.time.forward = std::max(out.time.forward, c.forward);
    out.time.backward = std::max(out.time.backward, c.backward);
    activations[i] =
        chunk_activations(shape, spec.blocks, spec.has_head(), request.activation_model);
  }
  out.per_layer_activation = activations[0].per_layer;
  out.published_layer_activation = published_layer_activation_bytes(shape);

  // --- memory, per pipeline rank
  std::vector<int> walked;
  if (request.memory_only && plan.pipeline_size > 8) {
    walked = {plan.stage_rank[0], plan.stage_rank[static_cast<std::size_t>(last)]};
  }
  const std::vector<ActivationPeak> peaks = activation_peaks(plan, activations, walked);
  const double optimizer_share = choice.zero == 0
                                     ? prec.optimizer_bytes
                                     : (prec.optimizer_bytes + prec.sharded_extra_bytes) / d;
  out.device_memory = cluster.accelerator.memory_bytes * rank_devices;
  for (int r = 0; r < plan.pipeline_size; ++r) {
    if (!walked.empty() && std::find(walked.begin(), walked.end(), r) == walked.end()) continue;
    MemoryBreakdown mem;
    mem.pipeline_rank = r;
    bool reads_data = false;
    for (int s = 0; s < stages; ++s) {
      if (plan.stage_rank[static_cast<std::size_t>(s)] != r) continue;
      mem.parameter_count += stage_params[static_cast<std::size_t>(s)];
      reads_data = reads_data || s == 0 || s == last;
    }
    mem.parameters = mem.parameter_count * prec.parameter_bytes;
    mem.gradients = mem.parameter_count * prec.gradient_bytes;
    mem.optimizer = mem.parameter_count * optimizer_share;
    mem.activations = peaks[static_cast<std::size_t>(r)].bytes;
    mem.alive = peaks[static_cast<std::size_t>(r)].alive;
    // Token and target ids of every microbatch of the step, made when the step starts.
    if (reads_data) mem.other = 2.0 * 4.0 * choice.micro_batch * dims.seq_len * m;
    if (out.memory.empty() || mem.total() > out.peak.total()) out.peak = mem;
    out.memory.push_back(mem);
  }
  out.fits = out.peak.total() <= out.device_memory;
  if (request.memory_only) return out;

  // --- time: the schedule with these costs
  SimulationResult sim = simulate(plan, costs);
  if (!sim.completed) throw InputError(sim.deadlock);
  out.bubble_ratio = sim.bubble_ratio();
  out.time.pipeline_makespan = sim.makespan;

  // Per pipeline rank: its compute and tensor-parallel time, when each of its stages' backward
  // ends, and its data-parallel reductions queued one after another from then.
  std::vector<double> rank_end(static_cast<std::size_t>(plan.pipeline_size), 0.0);
  double shared_extra = 0.0;  // what ranks sharing devices add to the step (step 4), the most
  for (int r = 0; r < plan.pipeline_size; ++r) {
    const auto& timeline = sim.timeline[static_cast<std::size_t>(r)];
    std::map<int, double> stage_done;
    double tensor_comm = 0.0, end = 0.0, spin = 0.0;
    for (const TimedAction& a : timeline) {
      const auto s = static_cast<std::size_t>(a.action.stage);
      end = std::max(end, a.end);
      switch (a.action.type) {
        case ActionType::F:
          tensor_comm += stage_comm_f[s];
          spin += stage_spin_f[s];
          break;
        case ActionType::B:
          tensor_comm += stage_comm_i[s] + stage_comm_w[s];
          spin += stage_spin_b[s];
          stage_done[a.action.stage] = std::max(stage_done[a.action.stage], a.end);
          break;
        case ActionType::I:
          tensor_comm += stage_comm_i[s];
          break;
        case ActionType::W:
          tensor_comm += stage_comm_w[s];
          spin += stage_spin_b[s];  // once a microbatch, with its I
          stage_done[a.action.stage] = std::max(stage_done[a.action.stage], a.end);
          break;
        default:
          break;
      }
    }
    const double busy = sim.busy[static_cast<std::size_t>(r)];
    if (busy > out.time.compute + out.time.tensor_comm) {
      out.time.compute = busy - tensor_comm;
      out.time.tensor_comm = tensor_comm;
    }
    std::vector<std::pair<double, int>> order;
    for (const auto& [stage, done] : stage_done) order.push_back({done, stage});
    std::sort(order.begin(), order.end());
    double comm_end = 0.0, comm_total = 0.0, params = 0.0;
    for (const auto& [done, stage] : order) {
      const double grads = stage_params[static_cast<std::size_t>(stage)] * prec.gradient_bytes;
      const double seconds =
          collective_seconds(choice.zero == 0 ? Collective::all_reduce : Collective::reduce_scatter,
                             d, grads, out.data_link.latency, out.data_link.bandwidth);
      comm_end = std::max(comm_end, done) + seconds;
      comm_total += seconds;
      params += stage_params[static_cast<std::size_t>(stage)];
    }
    rank_end[static_cast<std::size_t>(r)] = std::max(end, comm_end);
    if (comm_total > out.time.data_comm) out.time.data_comm = comm_total;
    out.time.data_comm_exposed = std::max(out.time.data_comm_exposed, comm_end - end);

    // The optimizer: gradients zeroed (all), norm and clipping (the owned part), AdamW.
    const double owned = choice.zero == 0 ? params : params / d;
    double bytes = params * prec.gradient_bytes + owned * prec.gradient_bytes +
                   owned * prec.update_traffic_bytes;
    if (request.grad_clip) bytes += 2.0 * owned * prec.gradient_bytes;
    double seconds = bytes / byte_rate;
    if (choice.zero != 0) {
      seconds += collective_seconds(Collective::all_gather, d, params * prec.parameter_bytes,
                                    out.data_link.latency, out.data_link.bandwidth);
    }
    out.time.optimizer = std::max(out.time.optimizer, seconds);
    // Ranks sharing devices take turns on them (step 4): the rank's work takes k times as long,
    // and its tensor collectives find their peer descheduled — the chance that it is not
    // running, 1 - 1/k, times the wait's polling, which takes turns too.
    const double k = out.placement.oversubscription;
    shared_extra = std::max(shared_extra, (k - 1.0) * (busy + seconds + spin));
  }

  // The tied token table's gradients summed between the pipeline's ends, then the step's
  // all-reduces of a few bytes over the world (loss, gradient norm, peak memory).
  const double pipeline_end = *std::max_element(rank_end.begin(), rank_end.end());
  double sync = 0.0;
  if (tied_copy) {
    const int first_rank = layout.rank_of({0, 0, 0, 0});
    const int last_rank =
        layout.rank_of({0, 0, 0, plan.stage_rank[static_cast<std::size_t>(last)]});
    const GroupLink ends = link_of_groups(cluster, out.placement, {{first_rank, last_rank}});
    double table = token_table_parameters(dims, t) * prec.gradient_bytes;
    if (choice.zero != 0) table /= d;
    const double ready = std::max(
        rank_end.front(),
        rank_end[static_cast<std::size_t>(plan.stage_rank[static_cast<std::size_t>(last)])]);
    const double done =
        ready + collective_seconds(Collective::all_reduce, 2, table, ends.latency, ends.bandwidth);
    sync += std::max(0.0, done - pipeline_end);
  }
  std::vector<int> everyone(static_cast<std::size_t>(layout.world_size()));
  for (int r = 0; r < layout.world_size(); ++r) everyone[static_cast<std::size_t>(r)] = r;
  const GroupLink world = link_of_groups(cluster, out.placement, {everyone});
  sync += 3.0 * collective_seconds(Collective::all_reduce, world.size, 4.0, world.latency,
                                   world.bandwidth);
  out.time.synchronisation = sync;
  out.time.bubble = std::max(0.0, sim.makespan - (out.time.compute + out.time.tensor_comm));
  out.time.step = *std::max_element(rank_end.begin(), rank_end.end()) + sync + out.time.optimizer;

  out.time.shared_devices = shared_extra;
  out.time.step += shared_extra;

  out.tokens_per_step = static_cast<double>(request.global_batch * dims.seq_len);
  out.tokens_per_s = out.tokens_per_step / out.time.step;
  out.model_flops_per_step = flops_per_token(dims) * out.tokens_per_step;
  const double devices = static_cast<double>(layout.world_size()) * rank_devices;
  out.tflops_per_device = out.model_flops_per_step / out.time.step / devices / 1e12;
  out.mfu = model_flops_utilization(out.model_flops_per_step, out.time.step,
                                    cluster.train_peak_flops() * devices);
  return out;
}

}  // namespace trellis::plan
