#include "plan/time_prediction.h"

#include <algorithm>
#include <map>

#include "plan/collective_cost.h"
#include "train/model_flops.h"
#include "trellis/error.h"
#include "trellis/simulator.h"

namespace trellis::plan {

namespace {

// How long a wait of Trellis's mpi backend polls before it naps (backends/mpi/polling_work.cpp's
// spin_time): 200 us, plus 4 ns a byte of the operation, at most 1 s. On a node with more ranks
// than cores, a rank that reaches a collective before its peer (descheduled, sharing a core)
// keeps a core busy that long.
double wait_spin_seconds(double bytes) {
  return std::min(200e-6 + 4e-9 * bytes, 1.0);
}

}  // namespace

void predict_time(const PlanRequest& request, const PredictionInputs& in,
                  const ClusterSpec& cluster, Prediction& out) {
  const LayoutChoice& choice = request.layout;
  const ModelDims& dims = request.dims;
  const Precision& prec = in.precision;
  const PipelinePlan& plan = *in.plan;
  const ParallelLayout& layout = in.layout;
  const int stages = plan.stages();
  const int last = stages - 1;
  const int d = choice.data * choice.context;        // the gradients reduce over data x context
  const int expert_d = choice.data / choice.expert;  // experts' over the expert-data group
  const bool tied_copy = in.tied_copy;
  const double byte_rate = in.byte_rate;

  // One collective call (count times) over a link.
  auto call_seconds = [](const CommCall& c, const GroupLink& link) {
    return c.count * collective_seconds(c.op, link.size, c.bytes, link.latency, link.bandwidth);
  };
  auto comm_seconds = [&](const ActionWork& w) {
    double total = 0.0;
    for (const CommCall& c : w.comm) {
      total += call_seconds(c, c.group == TensorGroupPart::row      ? in.row_link
                               : c.group == TensorGroupPart::column ? in.column_link
                                                                    : out.tensor_link);
    }
    return total;
  };
  // The dispatchers' collectives, over the expert group.
  auto expert_seconds = [&](const ActionWork& w) {
    double total = 0.0;
    for (const CommCall& c : w.expert_comm) total += call_seconds(c, out.expert_link);
    return total;
  };
  auto spin_seconds = [&](const ActionWork& w) {
    double total = 0.0;
    for (const CommCall& c : w.comm) total += c.count * wait_spin_seconds(c.bytes);
    for (const CommCall& c : w.expert_comm) total += c.count * wait_spin_seconds(c.bytes);
    for (const ContextCollective& c : w.context_comm) total += c.count * wait_spin_seconds(c.bytes);
    return total;
  };
  auto compute_seconds = [&](const ActionWork& w) {
    return w.flops / in.flop_rate + w.bytes / byte_rate;
  };
  // The context group's collectives: those attention waits for in full, those that overlap it
  // only beyond the attention's own compute. {exposed, hidden}.
  auto context_seconds = [&](const ActionWork& w) {
    const GroupLink& link = out.context_link;
    double waited = 0.0, overlapping = 0.0;
    for (const ContextCollective& c : w.context_comm) {
      const double seconds =
          c.count * collective_seconds(c.op, link.size, c.bytes, link.latency, link.bandwidth);
      (c.overlaps_attention ? overlapping : waited) += seconds;
    }
    const double attention = w.attention_flops / in.flop_rate + w.attention_bytes / byte_rate;
    const double outlasting = std::max(0.0, overlapping - attention);
    return std::pair<double, double>{waited + outlasting, overlapping - outlasting};
  };

  out.time.pipeline_message =
      choice.pipeline > 1
          ? collective_seconds(Collective::send_recv, 2, in.cost.pipeline_message_bytes,
                               out.pipeline_link.latency, out.pipeline_link.bandwidth)
          : 0.0;
  std::vector<ActionCosts> costs(static_cast<std::size_t>(stages));
  std::vector<double> stage_params(static_cast<std::size_t>(stages), 0.0);
  std::vector<double> stage_expert_params(static_cast<std::size_t>(stages), 0.0);
  std::vector<double> stage_expert_f(static_cast<std::size_t>(stages)),
      stage_expert_i(static_cast<std::size_t>(stages));
  std::vector<double> stage_comm_f(static_cast<std::size_t>(stages)),
      stage_comm_i(static_cast<std::size_t>(stages)),
      stage_comm_w(static_cast<std::size_t>(stages));
  std::vector<double> stage_spin_f(static_cast<std::size_t>(stages)),
      stage_spin_b(static_cast<std::size_t>(stages));
  // Context collectives per microbatch: exposed (on the stage's critical path) and hidden.
  std::vector<std::pair<double, double>> stage_context_f(static_cast<std::size_t>(stages)),
      stage_context_i(static_cast<std::size_t>(stages));
  for (int s = 0; s < stages; ++s) {
    const auto i = static_cast<std::size_t>(s);
    const PassWork& work = in.stages[i].work;
    stage_params[i] = in.stages[i].parameters;
    stage_expert_params[i] = in.stages[i].expert_parameters;
    stage_expert_f[i] = expert_seconds(work.forward);
    stage_expert_i[i] = expert_seconds(work.backward_input);
    stage_comm_f[i] = comm_seconds(work.forward);
    stage_comm_i[i] = comm_seconds(work.backward_input);
    stage_comm_w[i] = comm_seconds(work.backward_weight);
    stage_spin_f[i] = spin_seconds(work.forward);
    stage_spin_b[i] = spin_seconds(work.backward_input) + spin_seconds(work.backward_weight);
    stage_context_f[i] = context_seconds(work.forward);
    stage_context_i[i] = context_seconds(work.backward_input);
    ActionCosts& c = costs[i];
    c.forward = compute_seconds(work.forward) + stage_comm_f[i] + stage_context_f[i].first +
                stage_expert_f[i];
    c.backward_input = compute_seconds(work.backward_input) + stage_comm_i[i] +
                       stage_context_i[i].first + stage_expert_i[i];
    c.backward_weight = compute_seconds(work.backward_weight) + stage_comm_w[i];
    c.backward = c.backward_input + c.backward_weight;
    c.latency = out.time.pipeline_message;
    out.time.forward = std::max(out.time.forward, c.forward);
    out.time.backward = std::max(out.time.backward, c.backward);
  }

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
    double tensor_comm = 0.0, expert_comm = 0.0, end = 0.0, spin = 0.0;
    std::pair<double, double> context_comm{0.0, 0.0};
    auto add_context = [&](const std::pair<double, double>& seconds) {
      context_comm.first += seconds.first;
      context_comm.second += seconds.second;
    };
    for (const TimedAction& a : timeline) {
      const auto s = static_cast<std::size_t>(a.action.stage);
      end = std::max(end, a.end);
      switch (a.action.type) {
        case ActionType::F:
          tensor_comm += stage_comm_f[s];
          expert_comm += stage_expert_f[s];
          add_context(stage_context_f[s]);
          spin += stage_spin_f[s];
          break;
        case ActionType::B:
          tensor_comm += stage_comm_i[s] + stage_comm_w[s];
          expert_comm += stage_expert_i[s];
          add_context(stage_context_i[s]);
          spin += stage_spin_b[s];
          stage_done[a.action.stage] = std::max(stage_done[a.action.stage], a.end);
          break;
        case ActionType::I:
          tensor_comm += stage_comm_i[s];
          expert_comm += stage_expert_i[s];
          add_context(stage_context_i[s]);
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
    if (busy >
        out.time.compute + out.time.tensor_comm + out.time.context_comm + out.time.expert_comm) {
      out.time.compute = busy - tensor_comm - context_comm.first - expert_comm;
      out.time.tensor_comm = tensor_comm;
      out.time.expert_comm = expert_comm;
      out.time.context_comm = context_comm.first;
      out.time.context_comm_hidden = context_comm.second;
    }
    std::vector<std::pair<double, int>> order;
    for (const auto& [stage, done] : stage_done) order.push_back({done, stage});
    std::sort(order.begin(), order.end());
    double comm_end = 0.0, comm_total = 0.0, params = 0.0, expert_params = 0.0;
    const Collective reduction =
        choice.zero == 0 ? Collective::all_reduce : Collective::reduce_scatter;
    for (const auto& [done, stage] : order) {
      const auto i = static_cast<std::size_t>(stage);
      const double grads = stage_params[i] * prec.gradient_bytes;
      double seconds =
          collective_seconds(reduction, d, grads, out.data_link.latency, out.data_link.bandwidth);
      if (stage_expert_params[i] > 0.0) {
        seconds +=
            collective_seconds(reduction, expert_d, stage_expert_params[i] * prec.gradient_bytes,
                               out.expert_data_link.latency, out.expert_data_link.bandwidth);
      }
      comm_end = std::max(comm_end, done) + seconds;
      comm_total += seconds;
      params += stage_params[i];
      expert_params += stage_expert_params[i];
    }
    rank_end[static_cast<std::size_t>(r)] = std::max(end, comm_end);
    if (comm_total > out.time.data_comm) out.time.data_comm = comm_total;
    out.time.data_comm_exposed = std::max(out.time.data_comm_exposed, comm_end - end);

    // The optimizer: gradients zeroed (all), norm and clipping (the owned part), AdamW.
    const double owned =
        choice.zero == 0 ? params + expert_params : params / d + expert_params / expert_d;
    double bytes = (params + expert_params) * prec.gradient_bytes + owned * prec.gradient_bytes +
                   owned * prec.update_traffic_bytes;
    if (request.grad_clip) bytes += 2.0 * owned * prec.gradient_bytes;
    double seconds = bytes / byte_rate;
    if (choice.zero != 0) {
      seconds += collective_seconds(Collective::all_gather, d, params * prec.parameter_bytes,
                                    out.data_link.latency, out.data_link.bandwidth);
      if (expert_params > 0.0) {
        seconds += collective_seconds(Collective::all_gather, expert_d,
                                      expert_params * prec.parameter_bytes,
                                      out.expert_data_link.latency, out.expert_data_link.bandwidth);
      }
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
    double table = in.cost.parameters.token_table * prec.gradient_bytes;
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
  out.time.bubble = std::max(0.0, sim.makespan - (out.time.compute + out.time.tensor_comm +
                                                  out.time.context_comm + out.time.expert_comm));
  out.time.step = *std::max_element(rank_end.begin(), rank_end.end()) + sync + out.time.optimizer;

  out.time.shared_devices = shared_extra;
  out.time.step += shared_extra;

  out.tokens_per_step = static_cast<double>(request.global_batch * dims.seq_len);
  out.tokens_per_s = out.tokens_per_step / out.time.step;
  out.model_flops_per_step =
      flops_per_token(dims, request.moe, request.architecture()) * out.tokens_per_step;
  const double devices = static_cast<double>(layout.world_size()) * in.rank_devices;
  out.tflops_per_device = out.model_flops_per_step / out.time.step / devices / 1e12;
  out.mfu = model_flops_utilization(out.model_flops_per_step, out.time.step,
                                    cluster.train_peak_flops() * devices);
}

}  // namespace trellis::plan
