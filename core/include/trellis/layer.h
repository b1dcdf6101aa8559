// Layers and layer families: the pieces of the transformer under a tensor-parallel scheme.
//
// A Layer has explicit forward and backward passes. Several microbatches can be in flight at once
// (pipelining), so a layer keeps what its backward needs ("the stash") per microbatch id, from
// forward(mb) until backward_weight(mb). Backward runs whole (backward()) or in two parts:
// backward_input() computes the gradient of the input, backward_weight() accumulates the gradients
// of the parameters and frees the stash — zero-bubble schedules run the second part later.
//
// A LayerFamily (plugin kind "layers", chosen by [parallel] tensor_mode) makes the pieces of a GPT
// for one rank of a tensor group: embedding, blocks, final norm, LM head with the loss. Which
// blocks live on which pipeline stage is decided by core, the same for every family.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/context_attention.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"
#include "trellis/token_dispatcher.h"

namespace trellis {

// One microbatch as the layers see it.
struct Microbatch {
  int id = 0;               // the stash key; unique among microbatches in flight
  Tensor tokens;            // [B, Tl] i32 input tokens (read by the embedding); Tl = T, or T / c
                            // under context parallelism (LayerFamilyInit::chunks)
  Tensor targets;           // [B, Tl] i32 next tokens (read by the loss)
  float loss_scale = 1.0f;  // the loss gradient per token loss: 1 / tokens in the global batch
  bool training = true;     // false: forward only, nothing is stashed
  // ---- ABI 2.4 ----
  // The gradient of each MoE block's load-balancing loss (MoeSettings): 1 / microbatches in the
  // global batch, so that the step's loss is the token-mean cross-entropy plus the mean over
  // microbatches of each microbatch's aux losses.
  float aux_loss_scale = 1.0f;
};

// How a parameter starts in a run with [model] init = "random". Core draws the whole parameter
// from the run's seed and the parameter's name, then keeps this rank's shard, so every layout
// starts from the same model.
struct ParamInit {
  enum class Kind : std::uint8_t { zeros, ones, normal };
  Kind kind = Kind::zeros;
  float std = 0.0f;  // for normal: N(0, std^2)
};

// A trainable tensor, or this rank's shard of it. Before training, the trainer may replace
// `value` and `grad` by contiguous views of the same shape and contents (the distributed
// optimizer, [optim] zero = 1, packs them into flat buffers): layers read them through the
// Parameter at each use and keep no other handle to them.
struct Parameter {
  std::string name;          // the same under every layout, e.g. "h.3.attn.qkv.weight"
  Tensor value;              // this rank's shard
  Tensor grad;               // same shape; backward accumulates into it
  Shape global_shape;        // the whole parameter
  Shape shard_offset;        // where `value` starts inside it, per dimension
  int tensor_replicas = 1;   // ranks of the tensor group holding the same values (1: sharded)
  bool weight_decay = true;  // AdamW decays matrices and embeddings, not biases and norms
  ParamInit init;
  // ---- ABI 2.4 ----
  // An expert parameter under expert parallelism: dimension 0 holds this rank's experts
  // (shard_offset says which), the other ranks of the expert group hold the others, and the
  // gradient is summed over the expert-data group instead of the data group. Core reads it only
  // in runs with experts, whose family is 2.4 or later.
  bool expert = false;
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string_view name() const = 0;
  virtual std::vector<Parameter*> parameters() = 0;

  // Returns the output for microbatch `mb`. The returned tensor stays valid until this layer's
  // backward for `mb` has finished; when not training, for as long as the caller holds it (full
  // recomputation runs a block's forward without training and keeps its output as the next
  // block's input: a layer never writes into a tensor it has returned). A forward with and
  // without training computes the same output, bit for bit: recomputation relies on it.
  virtual Tensor forward(const Microbatch& mb, const Tensor& input) = 0;
  // Gradient of the input from the gradient of the output. The loss head takes an undefined
  // grad_output (it starts backward from mb.loss_scale); the embedding returns an undefined tensor.
  virtual Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) = 0;
  // Accumulates parameter gradients for `mb` and frees its stash.
  virtual void backward_weight(const Microbatch& mb) = 0;

  Tensor backward(const Microbatch& mb, const Tensor& grad_output) {
    Tensor grad_input = backward_input(mb, grad_output);
    backward_weight(mb);
    return grad_input;
  }
};

// The communicators of this rank's tensor group. When the tensor size is a square q*q > 1 the
// group is also a q x q grid (see TensorGrid) and `row` / `col` are this rank's grid row and
// column (what 2D families use); otherwise they are null.
struct TensorGroups {
  Communicator* tensor = nullptr;
  Communicator* row = nullptr;
  Communicator* col = nullptr;
};

// Where recomputation shows on the run's trace (ABI 2.2): a layer that recomputes part of its
// forward in backward (selective recomputation, LayerFamilyInit::recompute_attention) calls
// begin before and end after it, and the trace gets a "recompute" slice inside the backward's.
// Core's full recomputation reports its blocks' forwards the same way. Calls nest.
class RecomputeTrace {
 public:
  virtual ~RecomputeTrace() = default;
  // `what` names the layer and the piece, e.g. "h.3 attention"; `microbatch` is Microbatch::id.
  virtual void begin(std::string_view what, int microbatch) = 0;
  virtual void end() = 0;
};

struct LayerFamilyInit {
  ModelDims dims;
  TensorGroups groups;
  std::shared_ptr<Allocator> allocator;
  Kernels* kernels = nullptr;  // for the allocator's device
  int micro_batch = 1;         // B: sequences per microbatch
  std::uint64_t seed = 0;      // parameters are initialised from it identically under every layout
  const Options* options = nullptr;
  // ---- ABI 2.1: context parallelism (trellis/context_attention.h) ----
  // The context group and the attention across it; both null when [parallel] context is 1.
  // Under context parallelism the family's layers hold chunks.local_len() tokens of each
  // sequence (ContextChunks order): the embedding adds the positions of those tokens, and
  // attention goes through context_attention.
  Communicator* context = nullptr;
  ContextChunks chunks;  // {seq_len, 1, 0} without context parallelism
  std::shared_ptr<ContextAttention> context_attention;
  // ---- ABI 2.2: selective recomputation ([train] recompute = "selective") ----
  // true: blocks keep nothing of attention's core (scores, softmax, weighted sum) for backward
  // and run it again at the start of their input gradient (with context parallelism, the
  // context attention's forward again, communication included), from the Q, K and V they keep.
  // Set only for families whose descriptor says recomputes_attention (trellis/plugin.h).
  bool recompute_attention = false;
  // Where a block's recomputation shows on the trace; null when the run has no trace.
  RecomputeTrace* recompute_trace = nullptr;
  // ---- ABI 2.4: mixture of experts ----
  // The blocks is_moe_block() names have an MoE MLP. Experts are set only for families whose
  // descriptor says runs_experts (trellis/plugin.h); otherwise moe.experts is 0.
  MoeSettings moe;
  // Expert parallelism (moe.expert_parallel > 1): this rank's place in its expert group, whose
  // rank j holds experts [j E/ep, (j+1) E/ep) of every MoE block, and the dispatcher that moves
  // token choices to them (trellis/token_dispatcher.h). 0 and null without expert parallelism.
  int expert_rank = 0;
  std::shared_ptr<TokenDispatcher> dispatcher;
  // ---- ABI 2.6: model architectures (trellis/config.h) ----
  // What the blocks compute. Anything but GPT-2's only for families whose descriptor says
  // builds_architectures; their check (RunQuery::arch) refuses the combinations they cannot build.
  ModelArchitecture arch;
};

// The routing of a rank's MoE blocks over some training forwards (ABI 2.4): what the trainer
// reports as the step's aux_loss, tokens_per_expert_* and dropped_tokens. "Routed" counts token
// choices per (block, microbatch, expert) before capacity drops.
struct MoeStatistics {
  double aux_loss = 0.0;          // sum of the blocks' aux losses, coefficient applied
  std::int64_t dropped = 0;       // token choices over their expert's capacity
  std::int64_t routed_sum = 0;    // over every (block, microbatch, expert)
  std::int64_t routed_count = 0;  // how many (block, microbatch, expert) routed_sum adds
  std::int64_t routed_min = 0;    // meaningful when routed_count > 0
  std::int64_t routed_max = 0;

  void add(const MoeStatistics& other) {
    if (other.routed_count > 0) {
      routed_min = routed_count > 0 ? std::min(routed_min, other.routed_min) : other.routed_min;
      routed_max = routed_count > 0 ? std::max(routed_max, other.routed_max) : other.routed_max;
    }
    aux_loss += other.aux_loss;
    dropped += other.dropped;
    routed_sum += other.routed_sum;
    routed_count += other.routed_count;
  }
};

class LayerFamily {
 public:
  virtual ~LayerFamily() = default;

  // Shape of the hidden states passed between blocks and between pipeline stages on this rank.
  virtual Shape activation_shape() const = 0;

  // tokens [B, T] -> hidden states.
  virtual std::unique_ptr<Layer> make_embedding() = 0;
  // Transformer block `index` in [0, layers).
  virtual std::unique_ptr<Layer> make_block(int index) = 0;
  virtual std::unique_ptr<Layer> make_final_norm() = 0;
  // LM head and loss; forward returns the sum of this microbatch's token losses as a [1] tensor.
  // The head's weight is tied to the embedding's: `embedding` is the layer made by
  // make_embedding() when it lives on this rank, else null (the head then keeps its own copy,
  // whose gradient the trainer adds to the embedding's).
  virtual std::unique_ptr<Layer> make_head(Layer* embedding) = 0;

  // ---- ABI 2.4 ----
  // The routing statistics of this rank's MoE blocks over the training forwards since the last
  // call, which resets them. Core calls it once a step, only for families whose descriptor says
  // runs_experts (older plugins' classes lack it).
  virtual MoeStatistics take_moe_statistics() { return {}; }
};

}  // namespace trellis
