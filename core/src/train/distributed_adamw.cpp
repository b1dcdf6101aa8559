#include "train/distributed_adamw.h"

#include <algorithm>
#include <cmath>

#include "trellis/error.h"

namespace trellis {

DistributedAdamW::DistributedAdamW(OptimizerSetup setup) : setup_(std::move(setup)) {
  for (const auto& [stage, params] : setup_.stage_parameters) {
    std::vector<Parameter*> own;
    bool has_tied = false;
    for (Parameter* p : params) {
      if (p == setup_.tied_table) {
        has_tied = true;
      } else {
        own.push_back(p);
      }
    }
    if (!own.empty()) {
      stage_buckets_[stage].push_back(buckets_.size());
      buckets_.push_back(make_bucket(own, false));
    }
    if (has_tied) {
      stage_buckets_[stage].push_back(buckets_.size());
      buckets_.push_back(make_bucket({setup_.tied_table}, true));
    }
  }
}

DistributedAdamW::Bucket DistributedAdamW::make_bucket(const std::vector<Parameter*>& params,
                                                       bool tied) {
  Kernels& k = *setup_.kernels;
  const std::int64_t data_size = setup_.groups->data->size();
  const std::int64_t data_rank = setup_.groups->data->rank();
  Bucket b;
  b.tied = tied;
  std::int64_t total = 0;
  for (Parameter* p : params) {
    if (!p->value.is_contiguous()) {
      throw Error("[optim] zero = 1: parameter " + p->name +
                  " is not contiguous; the distributed optimizer packs parameters into buffers");
    }
    b.segments.push_back({p, total, p->value.numel()});
    total += p->value.numel();
  }
  const std::int64_t padded = (total + data_size - 1) / data_size * data_size;
  b.shard_numel = padded / data_size;
  b.shard_begin = data_rank * b.shard_numel;
  b.values = Tensor::empty({padded}, DType::f32, setup_.allocator);
  b.grads = Tensor::empty({padded}, DType::f32, setup_.allocator);
  k.fill(b.values, 0.0f);
  k.fill(b.grads, 0.0f);
  // The parameters move into the buckets; their old tensors are freed with the last handle.
  for (const Segment& s : b.segments) {
    Parameter& p = *s.param;
    Tensor value = b.values.narrow(0, s.begin, s.numel).view(p.value.shape());
    k.copy(p.value, value);
    p.value = value;
    p.grad = b.grads.narrow(0, s.begin, s.numel).view(p.grad.shape());
  }
  b.grad_shard = Tensor::empty({b.shard_numel}, DType::f32, setup_.allocator);
  b.m = Tensor::empty({b.shard_numel}, DType::f32, setup_.allocator);
  b.v = Tensor::empty({b.shard_numel}, DType::f32, setup_.allocator);
  k.fill(b.grad_shard, 0.0f);
  k.fill(b.m, 0.0f);
  k.fill(b.v, 0.0f);
  return b;
}

template <class Visit>
void DistributedAdamW::for_each_owned(const Bucket& bucket, Visit&& visit) const {
  const std::int64_t lo = bucket.shard_begin, hi = bucket.shard_begin + bucket.shard_numel;
  for (const Segment& s : bucket.segments) {
    const std::int64_t a = std::max(lo, s.begin), b = std::min(hi, s.begin + s.numel);
    if (a < b) visit(s, a - s.begin, b - a);
  }
}

void DistributedAdamW::reduce_stage_gradients(int stage) {
  auto it = stage_buckets_.find(stage);
  if (it == stage_buckets_.end()) return;
  for (std::size_t i : it->second) {
    Bucket& b = buckets_[i];
    b.pending = setup_.groups->data->reduce_scatter(b.grads, b.grad_shard, ReduceOp::sum);
  }
}

void DistributedAdamW::finish_gradient_reduction() {
  for (Bucket& b : buckets_) {
    if (b.pending) b.pending->wait();
    b.pending.reset();
  }
  // Both pipeline ends split the table's bucket alike, so their ranges add up element by element.
  if (setup_.groups->embedding) {
    for (Bucket& b : buckets_) {
      if (b.tied)
        setup_.groups->embedding->all_reduce(b.grad_shard, b.grad_shard, ReduceOp::sum)->wait();
    }
  }
}

double DistributedAdamW::grad_norm() {
  double local = 0.0;
  for (const Bucket& b : buckets_) {
    if (b.tied && setup_.tied_table_is_copy) continue;  // the first stage counts it
    for_each_owned(b, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Tensor range = b.grad_shard.narrow(0, s.begin + first - b.shard_begin, count);
      local += setup_.kernels->sum_squares(range) / static_cast<double>(s.param->tensor_replicas);
    });
  }
  // The ranges of the data group tile each model-parallel rank's parameters, and the
  // model-parallel group holds one whole model: the sum over the world is the whole gradient.
  Communicator& world = *setup_.groups->world;
  if (world.size() == 1) return std::sqrt(local);
  Tensor t = Tensor::empty({1}, DType::f32, setup_.allocator);
  t.data<float>()[0] = static_cast<float>(local);
  world.all_reduce(t, t, ReduceOp::sum)->wait();
  return std::sqrt(static_cast<double>(t.data<float>()[0]));
}

void DistributedAdamW::scale_gradients(float factor) {
  for (Bucket& b : buckets_) setup_.kernels->scale(b.grad_shard, factor);
}

void DistributedAdamW::step(float lr) {
  ++steps_;
  Kernels& k = *setup_.kernels;
  const AdamWSettings& a = setup_.settings;
  std::vector<WorkPtr> gathers;
  for (Bucket& b : buckets_) {
    for_each_owned(b, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const std::int64_t at = s.begin + first;
      const std::int64_t in_shard = at - b.shard_begin;
      const AdamWStep update{lr,
                             a.beta1,
                             a.beta2,
                             a.eps,
                             s.param->weight_decay ? a.weight_decay : 0.0f,
                             static_cast<int>(steps_)};
      k.adamw(b.values.narrow(0, at, count), b.grad_shard.narrow(0, in_shard, count),
              b.m.narrow(0, in_shard, count), b.v.narrow(0, in_shard, count), update);
    });
    // The gradient range is spent: it carries this rank's updated values to the others.
    k.copy(b.values.narrow(0, b.shard_begin, b.shard_numel), b.grad_shard);
    gathers.push_back(setup_.groups->data->all_gather(b.grad_shard, b.values));
  }
  for (auto& w : gathers) w->wait();
}

std::size_t DistributedAdamW::state_bytes() const {
  std::size_t bytes = 0;
  for (const Bucket& b : buckets_) bytes += b.m.nbytes() + b.v.nbytes();
  return bytes;
}

bool DistributedAdamW::owns_writes(const Bucket& bucket, const Parameter* p) const {
  // Every data rank writes its ranges; tensor rank 0 the tensor-replicated parameters; the
  // first stage the tied table.
  if (p->tensor_replicas > 1 && setup_.coords.tensor != 0) return false;
  return !(bucket.tied && setup_.tied_table_is_copy);
}

std::vector<CheckpointPiece> DistributedAdamW::pieces_to_save() {
  std::vector<CheckpointPiece> out;
  for (const Bucket& b : buckets_) {
    for_each_owned(b, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Parameter& p = *s.param;
      if (!owns_writes(b, &p)) return;
      TensorRegion region =
          TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape());
      region.begin = first;
      region.end = first + count;
      const std::int64_t in_shard = s.begin + first - b.shard_begin;
      out.push_back({p.name, region, b.values.narrow(0, s.begin + first, count)});
      out.push_back({moment_name("m", p.name), region, b.m.narrow(0, in_shard, count)});
      out.push_back({moment_name("v", p.name), region, b.v.narrow(0, in_shard, count)});
    });
  }
  return out;
}

std::vector<CheckpointPiece> DistributedAdamW::pieces_to_load() {
  // Parameters whole (every data rank holds them all), moments for the owned ranges only.
  std::vector<CheckpointPiece> out;
  for (const Bucket& b : buckets_) {
    for (const Segment& s : b.segments) {
      const Parameter& p = *s.param;
      out.push_back({p.name,
                     TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape()),
                     p.value});
    }
    for_each_owned(b, [&](const Segment& s, std::int64_t first, std::int64_t count) {
      const Parameter& p = *s.param;
      TensorRegion region =
          TensorRegion::whole_box(p.global_shape, p.shard_offset, p.value.shape());
      region.begin = first;
      region.end = first + count;
      const std::int64_t in_shard = s.begin + first - b.shard_begin;
      out.push_back({moment_name("m", p.name), region, b.m.narrow(0, in_shard, count)});
      out.push_back({moment_name("v", p.name), region, b.v.narrow(0, in_shard, count)});
    });
  }
  return out;
}

}  // namespace trellis
