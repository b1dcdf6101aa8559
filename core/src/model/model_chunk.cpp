#include "model/model_chunk.h"

#include <utility>

#include "trellis/error.h"

namespace trellis {

namespace {

// Runs one pass of a layer; an allocation past the memory limit says where it happened and
// what would help.
template <class Pass>
auto run_pass(Layer& layer, const char* pass, const Microbatch& mb, Pass&& run) {
  try {
    return run();
  } catch (const MemoryLimitError& e) {
    throw MemoryLimitError(std::string(layer.name()) + "'s " + pass + " of microbatch " +
                           std::to_string(mb.id) + ": " + e.what() +
                           "; to fit, recompute activations ([train] recompute = \"selective\" "
                           "or \"full\"), lower [train] micro_batch, split the model further, or "
                           "raise [device] memory_limit_mb");
  }
}

}  // namespace

ChunkSpec chunk_spec(int layers, int stages, int stage) {
  if (stages < 1 || layers % stages != 0) {
    throw InputError(std::to_string(layers) + " layers do not split evenly into " +
                     std::to_string(stages) + " pipeline stages");
  }
  int per_stage = layers / stages;
  return {stage, stages, stage * per_stage, per_stage};
}

ModelChunk::ModelChunk(LayerFamily& family, const ChunkSpec& spec, Layer* embedding_here,
                       const RecomputeSettings& recompute, RecomputeTrace* trace)
    : spec_(spec), trace_(trace) {
  if (spec.has_embedding()) {
    layers_.push_back(family.make_embedding());
    embedding_ = layers_.back().get();
    embedding_here = embedding_;
  }
  for (int b = 0; b < spec.blocks; ++b) layers_.push_back(family.make_block(spec.first_block + b));
  if (spec.has_head()) {
    layers_.push_back(family.make_final_norm());
    layers_.push_back(family.make_head(embedding_here));
  }
  const int first_block = spec.has_embedding() ? 1 : 0;
  group_ending_at_.assign(layers_.size(), -1);
  for (RecomputeGroup g : trellis::recompute_groups(recompute, spec.blocks)) {
    g.first += first_block;
    group_ending_at_[g.first + g.count - 1] = static_cast<int>(groups_.size());
    groups_.push_back(g);
  }
}

std::vector<Parameter*> ModelChunk::parameters() const {
  std::vector<Parameter*> params;
  for (const auto& layer : layers_) {
    for (Parameter* p : layer->parameters()) params.push_back(p);
  }
  return params;
}

Tensor ModelChunk::forward(const Microbatch& mb, const Tensor& input) {
  const auto forward = [&](Layer& layer, const Microbatch& m, const Tensor& x) {
    return run_pass(layer, "forward", m, [&] { return layer.forward(m, x); });
  };
  Tensor x = input;
  if (!mb.training || groups_.empty()) {
    for (auto& layer : layers_) x = forward(*layer, mb, x);
    return x;
  }
  auto [kept, inserted] = kept_inputs_.try_emplace(mb.id, groups_.size());
  if (!inserted) {
    throw Error("model chunk of stage " + std::to_string(spec_.stage) + ": forward of microbatch " +
                std::to_string(mb.id) +
                " while its previous forward is still waiting for backward");
  }
  Microbatch unstashed = mb;
  unstashed.training = false;
  std::size_t g = 0;
  for (int l = 0; l < static_cast<int>(layers_.size());) {
    if (g < groups_.size() && l == groups_[g].first) {
      kept->second[g] = x;
      for (int end = l + groups_[g].count; l < end; ++l) x = forward(*layers_[l], unstashed, x);
      ++g;
    } else {
      x = forward(*layers_[l], mb, x);
      ++l;
    }
  }
  return x;
}

void ModelChunk::recompute_group_ending_at(int l, const Microbatch& mb) {
  const int g = group_ending_at_[l];
  if (g < 0) return;
  auto kept = kept_inputs_.find(mb.id);
  if (kept == kept_inputs_.end() || !kept->second[g].defined()) {
    throw Error("model chunk of stage " + std::to_string(spec_.stage) + ": backward of " +
                std::string(layers_[l]->name()) + " for microbatch " + std::to_string(mb.id) +
                " without the forward that keeps its group's input");
  }
  const RecomputeGroup& group = groups_[g];
  Tensor x = std::exchange(kept->second[g], Tensor());
  if (trace_ != nullptr) {
    std::string what(layers_[group.first]->name());
    if (group.count > 1) {
      what += '-';
      what += layers_[l]->name();
    }
    trace_->begin(what, mb.id);
  }
  for (int b = group.first; b <= l; ++b) {
    Layer& layer = *layers_[b];
    x = run_pass(layer, "recomputed forward", mb, [&] { return layer.forward(mb, x); });
  }
  if (trace_ != nullptr) trace_->end();
  // The backward runs from the top group down: the first group's recomputation is the last.
  if (g == 0) kept_inputs_.erase(kept);
}

Tensor ModelChunk::backward(const Microbatch& mb, const Tensor& grad_output,
                            const LayerDone& done) {
  Tensor g = grad_output;
  for (int l = static_cast<int>(layers_.size()) - 1; l >= 0; --l) {
    recompute_group_ending_at(l, mb);
    Layer& layer = *layers_[l];
    g = run_pass(layer, "backward", mb, [&] { return layer.backward(mb, g); });
    if (done) done(l);
  }
  return g;
}

Tensor ModelChunk::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  Tensor g = grad_output;
  for (int l = static_cast<int>(layers_.size()) - 1; l >= 0; --l) {
    recompute_group_ending_at(l, mb);
    Layer& layer = *layers_[l];
    g = run_pass(layer, "input gradient", mb, [&] { return layer.backward_input(mb, g); });
  }
  return g;
}

void ModelChunk::backward_weight(const Microbatch& mb, const LayerDone& done) {
  for (int l = static_cast<int>(layers_.size()) - 1; l >= 0; --l) {
    Layer& layer = *layers_[l];
    run_pass(layer, "weight gradient", mb, [&] { layer.backward_weight(mb); });
    if (done) done(l);
  }
}

}  // namespace trellis
