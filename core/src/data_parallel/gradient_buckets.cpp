#include "data_parallel/gradient_buckets.h"

#include <algorithm>

#include "trellis/error.h"

namespace trellis {

namespace {

// A stage's parameters in the order backward finishes them, each with the layer that does: the
// first layer (in forward order) holding it, as backward runs the layers from last to first.
struct Finished {
  Parameter* param;
  int layer;
};

std::vector<Finished> backward_order(const std::vector<std::vector<Parameter*>>& layers) {
  std::map<const Parameter*, int> first_layer;
  for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l)
    for (Parameter* p : layers[l]) first_layer[p] = l;
  std::vector<Finished> out;
  for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l) {
    for (auto it = layers[l].rbegin(); it != layers[l].rend(); ++it) {
      Parameter* p = *it;
      // Taken once, by the layer that finishes it: a layer before this one may, or this one
      // may list it twice.
      auto first = first_layer.find(p);
      if (first == first_layer.end() || first->second != l) continue;
      first_layer.erase(first);
      out.push_back({p, l});
    }
  }
  return out;
}

}  // namespace

GradientBuckets::GradientBuckets(GradientBucketSetup setup, Launch launch)
    : setup_(std::move(setup)), launch_(std::move(launch)) {
  Kernels& k = *setup_.kernels;
  auto close = [&](Bucket& b) {
    if (b.segments.empty()) return;
    std::int64_t total = 0;
    for (Segment& s : b.segments) {
      s.begin = total;
      total += s.numel;
    }
    const std::int64_t pad_to = b.expert ? setup_.expert_pad_to : setup_.pad_to;
    const std::int64_t padded = (total + pad_to - 1) / pad_to * pad_to;
    b.grads = Tensor::empty({padded}, DType::f32, setup_.allocator);
    k.fill(b.grads, 0.0f);
    if (setup_.pack_values) {
      b.values = Tensor::empty({padded}, DType::f32, setup_.allocator);
      k.fill(b.values, 0.0f);
    }
    // The parameters' tensors move into the buffers; the old ones are freed with their last handle.
    for (const Segment& s : b.segments) {
      Parameter& p = *s.param;
      Tensor grad = b.grads.narrow(0, s.begin, s.numel).view(p.grad.shape());
      k.copy(p.grad, grad);
      p.grad = grad;
      if (setup_.pack_values) {
        Tensor value = b.values.narrow(0, s.begin, s.numel).view(p.value.shape());
        k.copy(p.value, value);
        p.value = value;
      }
    }
    buckets_.push_back(std::move(b));
    b = Bucket{};
  };
  for (const auto& [stage, layers] : setup_.stage_layers) {
    const std::size_t first = buckets_.size();
    // Two buckets fill at once: dense parameters and, with separate_experts, expert ones.
    Bucket filling[2];
    std::size_t filling_bytes[2] = {0, 0};
    filling[1].expert = true;
    for (const Finished& f : backward_order(layers)) {
      Parameter* p = f.param;
      if (!p->value.is_contiguous() || !p->grad.is_contiguous()) {
        throw Error("gradient buckets: parameter " + p->name +
                    " is not contiguous; the data-parallel reduction packs gradients into buffers");
      }
      const std::size_t bytes = p->grad.nbytes();
      if (p == setup_.alone) {
        Bucket own;
        own.stage = stage;
        own.alone = true;
        own.ready_after_layer = f.layer;
        own.segments.push_back({p, 0, p->grad.numel()});
        close(own);
        continue;
      }
      const int kind = setup_.separate_experts && p->expert ? 1 : 0;
      Bucket& current = filling[kind];
      std::size_t& current_bytes = filling_bytes[kind];
      if (!current.segments.empty() && current_bytes + bytes > setup_.bucket_bytes) {
        close(current);
        current.expert = kind == 1;
        current_bytes = 0;
      }
      if (current.segments.empty()) current.stage = stage;
      current.segments.push_back({p, 0, p->grad.numel()});
      current.ready_after_layer = f.layer;  // the parameters come in backward order
      current_bytes += bytes;
    }
    close(filling[0]);
    close(filling[1]);
    // Completion order: the alone bucket went in where its layer came, ahead of a bucket still
    // filling; a stable sort on the completing layer puts it right.
    std::vector<std::size_t> order;
    for (std::size_t i = first; i < buckets_.size(); ++i) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return buckets_[a].ready_after_layer > buckets_[b].ready_after_layer;
    });
    stage_buckets_[stage] = std::move(order);
  }
  pending_.resize(buckets_.size());
  started_.assign(buckets_.size(), false);
}

void GradientBuckets::start(std::size_t index) {
  Bucket& b = buckets_[index];
  if (setup_.trace) {
    setup_.trace->instant("reduce bucket " + std::to_string(index),
                          TraceRecorder::Track::communication, TraceRecorder::now_us(),
                          {{"stage", b.stage}, {"bytes", static_cast<long>(b.grads.nbytes())}});
  }
  pending_[index] = launch_(index, b);
  started_[index] = true;
}

void GradientBuckets::layer_done(int stage, int layer) {
  for (WorkPtr& w : pending_) {
    if (w && w->test()) w.reset();
  }
  auto it = stage_buckets_.find(stage);
  if (it == stage_buckets_.end()) return;
  for (std::size_t i : it->second) {
    if (buckets_[i].ready_after_layer < layer) break;
    if (!started_[i]) start(i);
  }
}

void GradientBuckets::finish() {
  for (const auto& [stage, order] : stage_buckets_)
    for (std::size_t i : order)
      if (!started_[i]) start(i);
  for (WorkPtr& w : pending_) {
    if (w) w->wait();
    w.reset();
  }
  started_.assign(buckets_.size(), false);
}

}  // namespace trellis
