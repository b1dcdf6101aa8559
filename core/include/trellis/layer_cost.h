// What a layer family costs: the description trellis-plan predicts memory and step time from.
//
// A layers plugin may give its descriptor a `describe_cost` function (ABI 2.0, trellis/plugin.h).
// trellis-plan calls it for every layout it predicts, with the model and the layout's tensor size
// and microbatch; the family answers with what ONE tensor rank does for ONE microbatch: the
// FLOPs of its matrix products, the bytes its element-wise kernels stream, the collectives each
// pass issues and their sizes, the values it stashes for backward and the parameters it holds.
// The planner turns these into time with the cluster's rates and links, walks the schedule's
// actions for the activation peak, and predicts recomputation (Megatron-LM's full and selective)
// from the pieces below. A family without `describe_cost` trains, but trellis-plan cannot plan
// it (it says so, exit 2) and --search leaves it out.
//
// Units: FLOPs count a multiply-add as 2; bytes as collectives count them (collective_kind's
// comment); stash sizes in VALUES a token (the planner multiplies by the tokens of a microbatch
// and the bytes of an activation value, so one description serves every dtype).
#pragma once

#include <cstdint>
#include <vector>

#include "trellis/config.h"

namespace trellis {

// A collective as trellis-bench and nccl-tests size it: the whole buffer of an all-reduce,
// broadcast or reduce, the gathered output of an all-gather, the input of a reduce-scatter,
// one message of a send/recv, the buffer each rank sends (its whole input) of an all-to-all.
// all_to_all is appended in ABI 2.1 (context plugins' costs, trellis/context_cost.h).
enum class CollectiveKind : unsigned char {
  all_reduce,
  all_gather,
  reduce_scatter,
  broadcast,
  reduce,
  send_recv,
  all_to_all
};

// Which ranks a collective runs over: the whole tensor group, or (a family that views its group
// as a grid, LayerCost::grid_side = q) one row or one column of the q x q grid. Tensor rank k sits
// at row k / q, column k % q.
enum class TensorSubgroup : unsigned char { whole, row, column };

struct CollectiveCall {
  CollectiveKind op = CollectiveKind::all_reduce;
  TensorSubgroup group = TensorSubgroup::whole;
  double bytes = 0.0;  // per call, on each rank (see CollectiveKind)
  double count = 1.0;  // how many such calls the pass makes
};

// One pass over one microbatch on one tensor rank.
struct PassCost {
  double flops = 0.0;  // matrix products
  double bytes = 0.0;  // streamed by element-wise kernels (reads + writes)
  std::vector<CollectiveCall> collectives;
};

// A piece's three passes: forward, input gradient, weight gradient (a whole backward is the
// last two; zero-bubble schedules run them apart).
struct PieceCost {
  PassCost forward;
  PassCost backward_input;
  PassCost backward_weight;
};

// What one block keeps for backward, in values a token (x tokens x bytes a value = bytes).
struct BlockStash {
  double after_forward = 0.0;            // kept from its forward until backward, attention
                                         // probabilities excepted
  double attention_probabilities = 0.0;  // the softmax output, if the family keeps it (selective
                                         // recomputation drops it)
  double after_input = 0.0;              // what waits for the weight gradient after the input
                                         // gradient (split backward)
  double backward_workspace = 0.0;       // the input gradient's buffers at their highest
  double chunk_input = 0.0;  // the input of a pipeline chunk's first block (also what full
                             // recomputation keeps of a block)
  double gradient_in = 0.0;  // the gradient arriving at a chunk's top
};

// What the final norm and the LM head keep, in values a token.
struct HeadStash {
  double after_forward = 0.0;       // held from the forward to the head's backward
  double after_input = 0.0;         // held after its input gradient (split backward)
  double logits = 0.0;              // the part of after_forward a whole backward frees before
                                    // the blocks' backward starts
  double backward_workspace = 0.0;  // its backward's buffers at their highest
};

// Parameters on one tensor rank (elements, not bytes).
struct ParameterCount {
  double block = 0.0;
  double embedding = 0.0;    // token table and positions
  double head = 0.0;         // the final norm (and the head's own weights, if not tied)
  double token_table = 0.0;  // the token table alone: the last stage's own copy of the tied
                             // table, and what the tied-weight reduction moves
};

struct LayerCostQuery {
  ModelDims dims;                 // padded_vocab as the layout pads it
  int tensor = 1;                 // ranks of the tensor group
  std::int64_t micro_batch = 1;   // sequences a microbatch (B)
  std::int64_t seq_len = 1;       // tokens a sequence (T)
  double activation_bytes = 4.0;  // bytes of one activation value
  // ---- ABI 2.6 ----
  // What the blocks compute; kv_heads 0 (a query from an older core) means GPT-2's.
  ModelArchitecture arch;
};

struct LayerCost {
  PieceCost block;  // one transformer block
  // Attention's core (scores, softmax, weighted sum) alone: what selective recomputation redoes
  // in the input gradient. Part of block.forward already.
  PassCost attention_core;
  PieceCost embedding;                  // token and position embedding
  PieceCost head;                       // final norm, LM head, loss
  double pipeline_message_bytes = 0.0;  // hidden states (or their gradient) a rank sends on
  BlockStash block_stash;
  HeadStash head_stash;
  ParameterCount parameters;
  // true: every activation of a block is a 1/t shard (Korthikanti et al.'s sequence-parallel
  // form); false: LayerNorm and residual regions are whole on every rank (their 1d form). Only
  // for `trellis-plan --activations korthikanti`.
  bool activations_sharded = false;
  // q when collectives name TensorSubgroup::row or column (a q x q grid, q^2 = tensor); else 0.
  int grid_side = 0;
};

}  // namespace trellis
