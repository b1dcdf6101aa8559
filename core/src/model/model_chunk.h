// The GPT assembly: which layers of the model one (virtual) pipeline stage runs, in order.
//
// With S = pipeline x virtual_stages stages, stage s holds blocks [s*L/S, (s+1)*L/S); the first
// stage also holds the embedding, the last the final norm and the LM head with the loss. The
// assembly is the same for every layer family: the family only makes the pieces.
//
// Full recomputation (model/recompute_plan.h) happens here, for any family: the forward of a
// group of blocks runs without training (nothing stashed) and keeps only the group's input; the
// backward of the group's last block first runs the group's forward again, with training, from
// that input — the same kernels on the same values, so the gradients are bit-identical. A split
// backward (zero-bubble schedules) recomputes once, in backward_input; backward_weight then finds
// the stashes as without recomputation.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "model/recompute_plan.h"
#include "trellis/layer.h"

namespace trellis {

struct ChunkSpec {
  int stage = 0;
  int stages = 1;
  int first_block = 0;
  int blocks = 0;
  bool has_embedding() const noexcept { return stage == 0; }
  bool has_head() const noexcept { return stage == stages - 1; }
};

// Throws InputError when `layers` does not split evenly into `stages`.
ChunkSpec chunk_spec(int layers, int stages, int stage);

class ModelChunk {
 public:
  // `embedding_here` is the embedding layer when this rank also holds stage 0 (so the head can
  // share its token table), else null. `trace` (optional) gets a slice for each group's
  // recomputation.
  ModelChunk(LayerFamily& family, const ChunkSpec& spec, Layer* embedding_here,
             const RecomputeSettings& recompute = {}, RecomputeTrace* trace = nullptr);

  const ChunkSpec& spec() const noexcept { return spec_; }
  // The embedding layer of this chunk, or null.
  Layer* embedding() const noexcept { return embedding_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const noexcept { return layers_; }
  std::vector<Parameter*> parameters() const;

  // input: the tokens at the first stage, else the previous stage's hidden states.
  // Returns the hidden states, or at the last stage the [1] sum of token losses.
  Tensor forward(const Microbatch& mb, const Tensor& input);
  // Called with a layer's index in layers() once its parameter gradients for the microbatch are
  // accumulated (the hook that starts the data-parallel reduction of finished gradients).
  using LayerDone = std::function<void(int layer)>;

  // Whole backward, layer by layer (each layer's stash is freed as soon as it is done).
  // grad_output: undefined at the last stage. Returns the gradient of the chunk's input
  // (undefined at the first stage).
  Tensor backward(const Microbatch& mb, const Tensor& grad_output, const LayerDone& done = {});
  // Backward split for zero-bubble schedules: the input gradients now, the weight gradients later.
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output);
  void backward_weight(const Microbatch& mb, const LayerDone& done = {});

  // The groups of blocks this chunk recomputes (indices into layers()).
  const std::vector<RecomputeGroup>& recompute_groups() const noexcept { return groups_; }

 private:
  // Runs layer l's forward for the group before it when l ends a recomputed group.
  void recompute_group_ending_at(int l, const Microbatch& mb);

  ChunkSpec spec_;
  std::vector<std::unique_ptr<Layer>> layers_;
  Layer* embedding_ = nullptr;
  std::vector<RecomputeGroup> groups_;  // by index into layers_
  std::vector<int> group_ending_at_;    // per layer: the group it ends, or -1
  RecomputeTrace* trace_ = nullptr;
  // Per microbatch in flight: each group's input, until the group's backward recomputes it.
  std::map<int, std::vector<Tensor>> kept_inputs_;
};

}  // namespace trellis
