#include "pipeline/executor.h"

#include <string>

#include "kernels/host_transfer.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::map<std::string, long> where(const Action& a) {
  return {{"stage", a.stage}, {"microbatch", a.microbatch}};
}

}  // namespace

PipelineExecutor::PipelineExecutor(ExecutorSetup setup) : s_(std::move(setup)) {
  if (s_.plan == nullptr) throw Error("pipeline executor: no plan");
  last_stage_ = s_.plan->stages() - 1;
  for (int stage = 0; stage <= last_stage_; ++stage) {
    if (s_.plan->stage_rank[stage] != s_.pipeline_rank) continue;
    if (s_.chunks.count(stage) == 0) {
      throw Error("pipeline executor: rank " + std::to_string(s_.pipeline_rank) + " holds stage " +
                  std::to_string(stage) + " in the plan but has no model chunk for it");
    }
  }
  const bool crosses_ranks = s_.plan->pipeline_size > 1;
  if (crosses_ranks && (s_.pipeline == nullptr || s_.pipeline->size() != s_.plan->pipeline_size)) {
    throw Error("pipeline executor: the plan spans " + std::to_string(s_.plan->pipeline_size) +
                " ranks but the pipeline group has " +
                std::to_string(s_.pipeline ? s_.pipeline->size() : 0));
  }
}

ModelChunk& PipelineExecutor::chunk(int stage) const {
  auto it = s_.chunks.find(stage);
  if (it == s_.chunks.end()) {
    throw Error("pipeline executor: stage " + std::to_string(stage) + " is not on rank " +
                std::to_string(s_.pipeline_rank));
  }
  return *it->second;
}

int PipelineExecutor::tag(int lower_stage, int microbatch, bool backward) const {
  // One tag per stage boundary, microbatch and direction, so any number can be in flight.
  return (lower_stage * s_.plan->microbatches + microbatch) * 2 + (backward ? 1 : 0);
}

Tensor PipelineExecutor::take_received(std::map<Key, Pending>& pending, const Key& key,
                                       const char* what) {
  auto it = pending.find(key);
  if (it == pending.end()) {
    throw Error(std::string("pipeline executor: ") + what + " of stage " +
                std::to_string(key.stage) + ", microbatch " + std::to_string(key.microbatch) +
                " was never received (the plan has no receive before its use)");
  }
  const double start = TraceRecorder::now_us();
  it->second.work->wait();
  if (s_.trace) {
    s_.trace->slice(std::string("wait ") + what, TraceRecorder::Track::communication, start,
                    TraceRecorder::now_us(),
                    {{"stage", key.stage}, {"microbatch", key.microbatch}});
  }
  Tensor received = it->second.buffer;
  pending.erase(it);
  return received;
}

double PipelineExecutor::run_step(const std::vector<Microbatch>& microbatches,
                                  const std::function<void(int stage, int layer)>& on_layer_done) {
  const PipelinePlan& plan = *s_.plan;
  const auto& actions = plan.per_rank[s_.pipeline_rank];
  if (static_cast<int>(microbatches.size()) != plan.microbatches) {
    throw Error("pipeline executor: the plan has " + std::to_string(plan.microbatches) +
                " microbatches, the step " + std::to_string(microbatches.size()));
  }
  // Backwards still to start per stage this step (for the reduction hook).
  remaining_backwards_.clear();
  for (const Action& a : actions) {
    if (a.type == ActionType::B || a.type == ActionType::W) ++remaining_backwards_[a.stage];
  }

  std::map<Key, Tensor> outputs;          // forward outputs waiting for their consumer
  std::map<Key, Tensor> input_grads;      // backward results waiting for their consumer
  std::map<Key, Pending> received_acts;   // posted RECV_F
  std::map<Key, Pending> received_grads;  // posted RECV_B
  std::vector<WorkPtr> sends;
  // The last stage's losses in the order computed, gathered on the device and read once at the
  // end (on a GPU each read waits for the device: one a step instead of one a microbatch).
  std::int64_t loss_count = 0, losses_held = 0;
  for (const Action& a : actions) loss_count += a.type == ActionType::F && a.stage == last_stage_;
  Tensor losses;
  if (loss_count > 0) losses = Tensor::empty({loss_count}, DType::f32, s_.allocator);

  auto compute_slice = [&](const Action& a, double start) {
    if (s_.trace) {
      if (s_.wait_for_compute) s_.wait_for_compute();
      // The bytes of live tensors once the action is done: what the stashes of the microbatches
      // in flight hold, for measuring a schedule's activation memory from the trace.
      std::map<std::string, long> args = where(a);
      if (s_.allocator) args["live_bytes"] = static_cast<long>(s_.allocator->current_bytes());
      s_.trace->slice(to_string(a), TraceRecorder::Track::compute, start, TraceRecorder::now_us(),
                      args);
    }
  };
  // The hook for the layers of a stage's last backward (B or W) of the step; none for the others.
  auto layer_hook = [&](int stage) -> ModelChunk::LayerDone {
    if (--remaining_backwards_[stage] > 0 || !on_layer_done) return {};
    return [&on_layer_done, stage](int layer) { on_layer_done(stage, layer); };
  };

  for (const Action& a : actions) {
    const Microbatch& mb = microbatches.at(a.microbatch);
    const Key key{a.stage, a.microbatch};
    if (s_.flight) {
      s_.flight->set_activity("pipeline action " + to_string(a) + " (stage " +
                              std::to_string(a.stage) + ", microbatch " +
                              std::to_string(a.microbatch) + ")");
    }
    const double start = TraceRecorder::now_us();
    switch (a.type) {
      case ActionType::F: {
        Tensor input;
        if (a.stage == 0) {
          input = mb.tokens;
        } else if (plan.stage_rank[a.stage - 1] == s_.pipeline_rank) {
          auto it = outputs.find({a.stage - 1, a.microbatch});
          if (it == outputs.end())
            throw Error("pipeline executor: " + to_string(a) + " before its input");
          input = it->second;
          outputs.erase(it);
        } else {
          input = take_received(received_acts, key, "activations");
        }
        // The compute slice starts once the input is here (the wait is a slice of its own).
        const double compute_start = TraceRecorder::now_us();
        Tensor out = chunk(a.stage).forward(mb, input);
        if (a.stage == last_stage_) {
          s_.kernels->copy(out, losses.narrow(0, losses_held++, 1));
        } else {
          outputs[key] = out;
        }
        compute_slice(a, compute_start);
        break;
      }
      case ActionType::B:
      case ActionType::I: {
        Tensor grad_out;
        if (a.stage < last_stage_) {
          if (plan.stage_rank[a.stage + 1] == s_.pipeline_rank) {
            auto it = input_grads.find({a.stage + 1, a.microbatch});
            if (it == input_grads.end())
              throw Error("pipeline executor: " + to_string(a) + " before its gradient");
            grad_out = it->second;
            input_grads.erase(it);
          } else {
            grad_out = take_received(received_grads, key, "gradients");
          }
        }
        const double compute_start = TraceRecorder::now_us();
        ModelChunk& c = chunk(a.stage);
        Tensor grad_in = a.type == ActionType::B ? c.backward(mb, grad_out, layer_hook(a.stage))
                                                 : c.backward_input(mb, grad_out);
        if (a.stage > 0) input_grads[key] = grad_in;
        compute_slice(a, compute_start);
        break;
      }
      case ActionType::W:
        chunk(a.stage).backward_weight(mb, layer_hook(a.stage));
        compute_slice(a, start);
        break;
      case ActionType::SEND_F: {
        auto it = outputs.find(key);
        if (it == outputs.end())
          throw Error("pipeline executor: " + to_string(a) + " before its forward");
        // The output stays referenced by the layer's stash and by the Work until sent.
        sends.push_back(s_.pipeline->send(it->second, plan.stage_rank[a.stage + 1],
                                          tag(a.stage, a.microbatch, false)));
        outputs.erase(it);
        if (s_.trace)
          s_.trace->instant(to_string(a), TraceRecorder::Track::communication, start, where(a));
        break;
      }
      case ActionType::SEND_B: {
        auto it = input_grads.find(key);
        if (it == input_grads.end())
          throw Error("pipeline executor: " + to_string(a) + " before its backward");
        sends.push_back(s_.pipeline->send(it->second, plan.stage_rank[a.stage - 1],
                                          tag(a.stage - 1, a.microbatch, true)));
        input_grads.erase(it);
        if (s_.trace)
          s_.trace->instant(to_string(a), TraceRecorder::Track::communication, start, where(a));
        break;
      }
      case ActionType::RECV_F: {
        Tensor buffer = Tensor::empty(s_.activation_shape, DType::f32, s_.allocator);
        WorkPtr work = s_.pipeline->recv(buffer, plan.stage_rank[a.stage - 1],
                                         tag(a.stage - 1, a.microbatch, false));
        received_acts[key] = {buffer, std::move(work)};
        if (s_.trace)
          s_.trace->instant(to_string(a), TraceRecorder::Track::communication, start, where(a));
        break;
      }
      case ActionType::RECV_B: {
        Tensor buffer = Tensor::empty(s_.activation_shape, DType::f32, s_.allocator);
        WorkPtr work = s_.pipeline->recv(buffer, plan.stage_rank[a.stage + 1],
                                         tag(a.stage, a.microbatch, true));
        received_grads[key] = {buffer, std::move(work)};
        if (s_.trace)
          s_.trace->instant(to_string(a), TraceRecorder::Track::communication, start, where(a));
        break;
      }
    }
    // Let posted sends make progress (backends that progress by polling need it) and drop the
    // finished ones.
    std::erase_if(sends, [](WorkPtr& w) { return w->test(); });
  }
  const double start = TraceRecorder::now_us();
  for (auto& w : sends) w->wait();
  if (s_.trace && !sends.empty()) {
    s_.trace->slice("wait sends", TraceRecorder::Track::communication, start,
                    TraceRecorder::now_us());
  }
  if (!received_acts.empty() || !received_grads.empty()) {
    throw Error("pipeline executor: the step ended with received data nobody used");
  }
  double loss = 0.0;
  if (losses.defined()) {
    for (float v : f32_to_host(*s_.kernels, losses)) loss += v;
  }
  return loss;
}

}  // namespace trellis
