// The mixture-of-experts MLP of an MoE block (trellis/config.h's MoeSettings;
// tests/golden/moe_reference.py is the contract), under Megatron tensor parallelism as the dense
// MLP it replaces:
//   x (the gathered LN2 output, [N, C] region order)
//     -> router: logits = x W_r^T in fp32, replicated on the tensor group, softmax over experts
//     -> the top_k experts of each token, gates = their probabilities renormalised to sum to 1
//     -> capacity: each expert keeps its first `capacity` choices in token order (dropless: all)
//     -> the kept choices as rows sorted by expert, moved to their experts' ranks by the
//        dispatcher under expert parallelism (trellis/token_dispatcher.h)
//     -> per local expert e, its rows: fc[e] (column-parallel) -> GELU -> proj[e] (row-parallel)
//     -> the outputs back to the ranks that sent the rows (the dispatcher's combine)
//     -> out[token] += gate x expert output: a partial sum the block's region reduce completes.
// Every tensor rank routes the same tokens (it holds all of them inside the region) and computes
// its shard of each expert, exactly as the dense MLP. Under expert parallelism each rank of the
// expert group (same tensor rank, other data ranks) holds E / ep of the experts; the tensor
// ranks dispatch alike, each to its own peers, and the partial outputs come back to be reduced
// over the tensor group as before. Capacity and the aux loss are the sending rank's, per its
// microbatch, so expert parallelism changes no routing decision. The gates' gradient d gate = dout
// . y_e needs the whole expert output: each rank's share of the dot products is all-reduced over
// the tensor group. The router's and the proj biases' gradients come out the same on every rank;
// the router's input gradient is added by tensor rank 0 only, as the row-parallel bias is.
//
// The load-balancing loss of the block and microbatch, aux = coeff x E x sum_i f_i P_i, enters
// backward scaled by Microbatch::aux_loss_scale: f_i (the share of choices routed to expert i,
// before dropping) is a constant, P_i (the mean probability of expert i) is differentiated
// through the softmax.
//
// Each training forward adds its routing to FamilyContext::moe_statistics, the family's.
//
// Routing and gates are host loops over the token choices: the layer runs on CPU kernels only
// (the config refuses experts on a CUDA device).
#pragma once

#include <cstdint>
#include <vector>

#include "family_context.h"
#include "parameters.h"
#include "stash_map.h"

namespace trellis::layers {

class MoeMlp {
 public:
  // `prefix` is the block's, e.g. "h.0."; the parameters are named prefix + "moe.*".
  MoeMlp(const FamilyContext& ctx, const std::string& prefix, const std::string& layer);

  std::vector<Parameter*> parameters();
  // x [B, T, C] in region order, whole on every tensor rank -> this rank's partial output
  // [B, T, C], to be summed over the tensor group (the region's reduce).
  Tensor forward(const Microbatch& mb, const Tensor& x);
  // d_out [B, T, C], the whole gradient of the output on every tensor rank -> this rank's
  // partial gradient of x, to be summed over the tensor group.
  Tensor backward_input(const Microbatch& mb, const Tensor& d_out);
  void backward_weight(const Microbatch& mb);

 private:
  // The kept choices this rank routed to one expert (of all E), in region-row order: its rows
  // of the rows sent to the dispatcher, in that order.
  struct SentChoices {
    std::vector<std::int64_t> rows;   // region rows of the tokens
    std::vector<std::int64_t> slots;  // which of the token's top_k choices
  };
  // One of this rank's experts over the rows it received (its slice of the dispatched rows).
  struct LocalExpert {
    std::int64_t begin = 0;  // its first row among the received ones
    Tensor x, fc, gelu;      // [n, C], [n, Hl], [n, Hl]
    Tensor d_y, d_fc;        // backward: its output's gradient, d(fc) [n, Hl]
  };
  struct Stash {
    Tensor x;                              // [N, C]
    std::vector<float> probs;              // [N, E]
    std::vector<std::int32_t> chosen;      // [N, k], highest probability first
    std::vector<float> gates;              // [N, k], renormalised
    std::vector<float> top_sum;            // [N], the chosen probabilities' sum
    std::vector<double> routed_share;      // [E], f_i
    std::vector<SentChoices> sent;         // [E]
    DispatchCounts counts;                 // with a dispatcher: every rank's rows per expert
    std::vector<std::int64_t> local_rows;  // rows each local expert received
    std::vector<LocalExpert> local;
    Tensor y;         // the experts' outputs (this rank's part), a row per sent row
    Tensor d_logits;  // [N, E], written by backward_input
  };

  std::int64_t local_experts() const;       // L = E / expert_parallel
  std::int64_t first_local_expert() const;  // expert_rank x L
  // Rows each local expert receives: with a dispatcher, exchanged over the expert group (into
  // s.counts); without, this rank's own per expert.
  std::vector<std::int64_t> local_rows(Stash& s, const std::vector<std::int64_t>& per_expert);
  // Region rows in token order ([B][T]): the order capacity takes choices in.
  std::vector<std::int64_t> rows_in_token_order() const;
  Tensor expert_slice(const Tensor& stacked, std::int64_t e) const;

  FamilyContext ctx_;
  MoeSettings moe_;
  std::string layer_;
  Parameter router_w_, fc_w_, fc_b_, proj_w_, proj_b_;
  StashMap<Stash> stashes_;
};

}  // namespace trellis::layers
