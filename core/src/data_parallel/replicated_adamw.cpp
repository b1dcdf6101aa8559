#include "data_parallel/replicated_adamw.h"

#include <cmath>

#include "data_parallel/all_reduce_scalar.h"

namespace trellis {

ReplicatedAdamW::ReplicatedAdamW(OptimizerSetup setup)
    : setup_(std::move(setup)),
      params_(setup_.parameters()),
      adamw_(params_, setup_.settings, *setup_.kernels, setup_.allocator) {
  // Replicas: data ranks (other sequences) and context ranks (other tokens of the same ones).
  // Expert parameters' replicas are the expert-data group's ranks (setup.replicas).
  if (setup_.groups->data_context->size() == 1) return;
  buckets_ = std::make_unique<GradientBuckets>(
      setup_.bucket_setup(1, 1, false), [this](std::size_t, GradientBuckets::Bucket& b) {
        return setup_.replicas(b.expert).all_reduce(b.grads, b.grads, ReduceOp::sum);
      });
}

void ReplicatedAdamW::layer_gradients_done(int stage, int layer) {
  if (buckets_) buckets_->layer_done(stage, layer);
}

void ReplicatedAdamW::finish_gradient_reduction() {
  if (buckets_) buckets_->finish();
  if (setup_.tied_table && setup_.groups->embedding) {
    Tensor& grad = setup_.tied_table->grad;
    setup_.groups->embedding->all_reduce(grad, grad, ReduceOp::sum)->wait();
  }
}

bool ReplicatedAdamW::is_expert(const Parameter* p) const {
  return setup_.expert_parallel() && p->expert;
}

bool ReplicatedAdamW::counted_here(const Parameter* p) const {
  return !(setup_.tied_table_is_copy && p == setup_.tied_table);
}

double ReplicatedAdamW::grad_norm() {
  double local = 0.0, experts = 0.0;
  for (Parameter* p : params_) {
    if (!counted_here(p)) continue;
    const double squares =
        setup_.kernels->sum_squares(p->grad) / static_cast<double>(p->tensor_replicas);
    (is_expert(p) ? experts : local) += squares;
  }
  // The expert group's ranks hold different experts: their squares add up first.
  if (setup_.expert_parallel()) {
    local += all_reduce_scalar(*setup_.groups->expert, experts, ReduceOp::sum, setup_.allocator,
                               *setup_.kernels);
  }
  Communicator& model = *setup_.groups->model_parallel;
  if (model.size() == 1) return std::sqrt(local);
  // Each model-parallel group holds one whole model; its data and context replicas hold the
  // same reduced gradients.
  return std::sqrt(
      all_reduce_scalar(model, local, ReduceOp::sum, setup_.allocator, *setup_.kernels));
}

void ReplicatedAdamW::scale_gradients(float factor) {
  for (Parameter* p : params_) setup_.kernels->scale(p->grad, factor);
}

void ReplicatedAdamW::step(float lr) {
  adamw_.step(lr);
}

std::vector<CheckpointPiece> ReplicatedAdamW::pieces(bool owned_only) {
  // Writers: rank 0 of the data-context group (of the expert-data group for an expert
  // parameter); tensor rank 0 for tensor-replicated parameters;
  // the first stage for the tied table (the rules of the llm.c export).
  std::vector<CheckpointPiece> out;
  const RankCoords& c = setup_.coords;
  for (const AdamWOptimizer::State& s : adamw_.states()) {
    const Parameter* p = s.param;
    const bool replica_zero = setup_.replicas(is_expert(p)).rank() == 0;
    const bool owner =
        replica_zero && !(p->tensor_replicas > 1 && c.tensor != 0) && counted_here(p);
    if (owned_only && !owner) continue;
    const TensorRegion region =
        TensorRegion::whole_box(p->global_shape, p->shard_offset, p->value.shape());
    out.push_back({p->name, region, p->value});
    out.push_back({moment_name("m", p->name), region, s.m});
    out.push_back({moment_name("v", p->name), region, s.v});
  }
  return out;
}

std::vector<CheckpointPiece> ReplicatedAdamW::pieces_to_save() {
  return pieces(true);
}
std::vector<CheckpointPiece> ReplicatedAdamW::pieces_to_load() {
  return pieces(false);
}

}  // namespace trellis
