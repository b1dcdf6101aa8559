#include "model/model_chunk.h"

#include "trellis/error.h"

namespace trellis {

ChunkSpec chunk_spec(int layers, int stages, int stage) {
  if (stages < 1 || layers % stages != 0) {
    throw InputError(std::to_string(layers) + " layers do not split evenly into " +
                     std::to_string(stages) + " pipeline stages");
  }
  int per_stage = layers / stages;
  return {stage, stages, stage * per_stage, per_stage};
}

ModelChunk::ModelChunk(LayerFamily& family, const ChunkSpec& spec, Layer* embedding_here)
    : spec_(spec) {
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
}

std::vector<Parameter*> ModelChunk::parameters() const {
  std::vector<Parameter*> params;
  for (const auto& layer : layers_) {
    for (Parameter* p : layer->parameters()) params.push_back(p);
  }
  return params;
}

Tensor ModelChunk::forward(const Microbatch& mb, const Tensor& input) {
  Tensor x = input;
  for (auto& layer : layers_) x = layer->forward(mb, x);
  return x;
}

Tensor ModelChunk::backward(const Microbatch& mb, const Tensor& grad_output,
                            const LayerDone& done) {
  Tensor g = grad_output;
  for (int l = static_cast<int>(layers_.size()) - 1; l >= 0; --l) {
    g = layers_[l]->backward(mb, g);
    if (done) done(l);
  }
  return g;
}

Tensor ModelChunk::backward_input(const Microbatch& mb, const Tensor& grad_output) {
  Tensor g = grad_output;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) g = (*it)->backward_input(mb, g);
  return g;
}

void ModelChunk::backward_weight(const Microbatch& mb, const LayerDone& done) {
  for (int l = static_cast<int>(layers_.size()) - 1; l >= 0; --l) {
    layers_[l]->backward_weight(mb);
    if (done) done(l);
  }
}

}  // namespace trellis
