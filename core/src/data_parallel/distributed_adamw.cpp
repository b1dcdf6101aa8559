#include "data_parallel/distributed_adamw.h"

#include <algorithm>
#include <cmath>

#include "data_parallel/all_reduce_scalar.h"
#include "trellis/error.h"

namespace trellis {

DistributedAdamW::DistributedAdamW(OptimizerSetup setup)
    : setup_(std::move(setup)),
      buckets_(setup_.bucket_setup(
                   setup_.groups->data_context->size(),
                   setup_.expert_parallel() ? setup_.groups->expert_data->size() : 1, true),
               [this](std::size_t index, Bucket& b) {
                 return setup_.replicas(b.expert).reduce_scatter(b.grads, shards_[index].grad,
                                                                 ReduceOp::sum);
               }) {
  // The state is sharded over every replica of the parameters: the data-context group (the
  // expert-data group for expert buckets).
  Kernels& k = *setup_.kernels;
  for (const Bucket& b : buckets_.buckets()) {
    const Communicator& replicas = setup_.replicas(b.expert);
    Shard shard;
    shard.numel = b.grads.numel() / replicas.size();
    shard.begin = replicas.rank() * shard.numel;
    shard.grad = Tensor::empty({shard.numel}, DType::f32, setup_.allocator);
    shard.m = Tensor::empty({shard.numel}, DType::f32, setup_.allocator);
    shard.v = Tensor::empty({shard.numel}, DType::f32, setup_.allocator);
    k.fill(shard.grad, 0.0f);
    k.fill(shard.m, 0.0f);
    k.fill(shard.v, 0.0f);
    shards_.push_back(std::move(shard));
  }
}

template <class Visit>
void DistributedAdamW::for_each_owned(const Bucket& bucket, const Shard& shard,
                                      Visit&& visit) const {
  const std::int64_t lo = shard.begin, hi = shard.begin + shard.numel;
  for (const Segment& s : bucket.segments) {
    const std::int64_t a = std::max(lo, s.begin), b = std::min(hi, s.begin + s.numel);
    if (a < b) visit(s, a - s.begin, b - a);
  }
}

void DistributedAdamW::layer_gradients_done(int stage, int layer) {
  buckets_.layer_done(stage, layer);
}

void DistributedAdamW::finish_gradient_reduction() {
  buckets_.finish();
  // Both pipeline ends split the table's bucket alike, so their ranges add up element by element.
  if (setup_.groups->embedding) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      if (!buckets_.buckets()[i].alone) continue;
      Tensor& grad = shards_[i].grad;
      setup_.groups->embedding->all_reduce(grad, grad, ReduceOp::sum)->wait();
    }
  }
}

double DistributedAdamW::grad_norm() {
  double local = 0.0;
  const std::vector<Bucket>& buckets = buckets_.buckets();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    const Shard& shard = shards_[i];
    if (b.alone && setup_.tied_table_is_copy) continue;  // the first stage counts it
    for_each_owned(b, shard, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Tensor range = shard.grad.narrow(0, s.begin + first - shard.begin, count);
      local += setup_.kernels->sum_squares(range) / static_cast<double>(s.param->tensor_replicas);
    });
  }
  // The ranges of the data-context group tile each model-parallel rank's parameters, and the
  // model-parallel group holds one whole model: the sum over the world is the whole gradient.
  // (Expert buckets: the expert-data group's ranges tile a rank's experts, and the expert group
  // holds the others; together they are the data group.)
  Communicator& world = *setup_.groups->world;
  if (world.size() == 1) return std::sqrt(local);
  return std::sqrt(
      all_reduce_scalar(world, local, ReduceOp::sum, setup_.allocator, *setup_.kernels));
}

void DistributedAdamW::scale_gradients(float factor) {
  for (Shard& shard : shards_) setup_.kernels->scale(shard.grad, factor);
}

void DistributedAdamW::step(float lr) {
  ++steps_;
  Kernels& k = *setup_.kernels;
  const AdamWSettings& a = setup_.settings;
  std::vector<WorkPtr> gathers;
  std::vector<Bucket>& buckets = buckets_.buckets();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    Bucket& b = buckets[i];
    Shard& shard = shards_[i];
    for_each_owned(b, shard, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const std::int64_t at = s.begin + first;
      const std::int64_t in_shard = at - shard.begin;
      const AdamWStep update{lr,
                             a.beta1,
                             a.beta2,
                             a.eps,
                             s.param->weight_decay ? a.weight_decay : 0.0f,
                             static_cast<int>(steps_)};
      k.adamw(b.values.narrow(0, at, count), shard.grad.narrow(0, in_shard, count),
              shard.m.narrow(0, in_shard, count), shard.v.narrow(0, in_shard, count), update);
    });
    // The gradient range is spent: it carries this rank's updated values to the others.
    k.copy(b.values.narrow(0, shard.begin, shard.numel), shard.grad);
    gathers.push_back(setup_.replicas(b.expert).all_gather(shard.grad, b.values));
  }
  for (auto& w : gathers) w->wait();
}

std::size_t DistributedAdamW::state_bytes() const {
  std::size_t bytes = 0;
  for (const Shard& shard : shards_) bytes += shard.m.nbytes() + shard.v.nbytes();
  return bytes;
}

bool DistributedAdamW::owns_writes(const Bucket& bucket, const Parameter* p) const {
  // Every rank of the data-context group writes its ranges; tensor rank 0 the tensor-replicated
  // parameters; the first stage the tied table.
  if (p->tensor_replicas > 1 && setup_.coords.tensor != 0) return false;
  return !(bucket.alone && setup_.tied_table_is_copy);
}

std::vector<CheckpointPiece> DistributedAdamW::pieces_to_save() {
  std::vector<CheckpointPiece> out;
  const std::vector<Bucket>& buckets = buckets_.buckets();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    const Shard& shard = shards_[i];
    for_each_owned(b, shard, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Parameter& p = *s.param;
      if (!owns_writes(b, &p)) return;
      TensorRegion region =
          TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape());
      region.begin = first;
      region.end = first + count;
      const std::int64_t in_shard = s.begin + first - shard.begin;
      out.push_back({p.name, region, b.values.narrow(0, s.begin + first, count)});
      out.push_back({moment_name("m", p.name), region, shard.m.narrow(0, in_shard, count)});
      out.push_back({moment_name("v", p.name), region, shard.v.narrow(0, in_shard, count)});
    });
  }
  return out;
}

std::vector<CheckpointPiece> DistributedAdamW::pieces_to_load() {
  // Parameters whole (every data rank holds them all), moments for the owned ranges only.
  std::vector<CheckpointPiece> out;
  const std::vector<Bucket>& buckets = buckets_.buckets();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    const Shard& shard = shards_[i];
    for (const Segment& s : b.segments) {
      const Parameter& p = *s.param;
      out.push_back({p.name,
                     TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape()),
                     p.value});
    }
    for_each_owned(b, shard, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Parameter& p = *s.param;
      TensorRegion region =
          TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape());
      region.begin = first;
      region.end = first + count;
      const std::int64_t in_shard = s.begin + first - shard.begin;
      out.push_back({moment_name("m", p.name), region, shard.m.narrow(0, in_shard, count)});
      out.push_back({moment_name("v", p.name), region, shard.v.narrow(0, in_shard, count)});
    });
  }
  return out;
}

}  // namespace trellis
