#include "transformer_cost.h"

namespace trellis::layers {

namespace {

struct TokenTraffic {
  double rep, split, att;
};
constexpr TokenTraffic kForward{10, 8, 1.5};
constexpr TokenTraffic kInput{12, 12, 1.5};
constexpr TokenTraffic kWeight{2, 7, 0};

double traffic_bytes(const LayerCostQuery& q, const TokenTraffic& c, RegionHolding holding,
                     double extra_split) {
  const double tokens = static_cast<double>(q.micro_batch * q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double att = static_cast<double>(q.dims.heads * q.seq_len) / t;
  const bool shards = holding == RegionHolding::sharded;
  const double values =
      (shards ? c.rep * h / t : c.rep * h) + (c.split + extra_split) * h / t + c.att * att;
  return tokens * values * q.activation_bytes;
}

}  // namespace

namespace {

ModelArchitecture architecture(const LayerCostQuery& q) {
  return q.arch.kv_heads > 0 ? q.arch : ModelArchitecture::gpt2(q.dims.hidden, q.dims.heads);
}

}  // namespace

BlockWidths block_widths(const LayerCostQuery& q) {
  const ModelArchitecture a = architecture(q);
  const double h = static_cast<double>(q.dims.hidden);
  const double hs = h / static_cast<double>(q.dims.heads);
  BlockWidths w;
  w.qkv = h + 2.0 * static_cast<double>(a.kv_heads) * hs;
  w.ffn = static_cast<double>(a.ffn_hidden);
  w.fc = a.mlp == ModelArchitecture::Mlp::swiglu ? 2.0 * w.ffn : w.ffn;
  w.macs = h * w.qkv + h * h + h * w.fc + w.ffn * h;
  w.split = 3.0 * h + h + w.fc + w.ffn;
  w.workspace = w.fc + h + 3.0 * h;
  w.norm = a.norm == ModelArchitecture::Norm::layernorm ? 2.0 * h : h;
  w.row_bias = a.bias ? h : 0.0;
  w.column_bias = a.bias ? w.qkv + w.fc : 0.0;
  return w;
}

double BlockWidths::block_parameters(double tensor) const {
  return (macs + column_bias) / tensor + 2.0 * norm + 2.0 * row_bias;
}

double embedding_parameters(const LayerCostQuery& q) {
  const double h = static_cast<double>(q.dims.hidden);
  const double table = static_cast<double>(q.dims.padded_vocab) * h / q.tensor;
  const bool learned = architecture(q).positions == ModelArchitecture::Positions::learned;
  return table + (learned ? static_cast<double>(q.dims.max_seq_len) * h : 0.0);
}

double head_parameters(const LayerCostQuery& q) {
  const ModelArchitecture a = architecture(q);
  const double h = static_cast<double>(q.dims.hidden);
  const double norm = a.norm == ModelArchitecture::Norm::layernorm ? 2.0 * h : h;
  return norm + (a.tie_embeddings ? 0.0 : static_cast<double>(q.dims.padded_vocab) * h / q.tensor);
}

double hidden_state_bytes(const LayerCostQuery& q) {
  return q.activation_bytes * static_cast<double>(q.micro_batch * q.seq_len * q.dims.hidden);
}

LayerCost transformer_compute(const LayerCostQuery& q, RegionHolding holding,
                              double reorder_split) {
  const double b = static_cast<double>(q.micro_batch), s = static_cast<double>(q.seq_len);
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double linear = 2.0 * b * s * block_widths(q).macs / t;
  const double core = 4.0 * b * s * s * h / t;  // scores and weighted sum

  LayerCost c;
  c.block.forward.flops = linear + core;
  c.block.forward.bytes = traffic_bytes(q, kForward, holding, reorder_split);
  c.block.backward_input.flops = linear + 2.0 * core;
  c.block.backward_input.bytes = traffic_bytes(q, kInput, holding, reorder_split);
  c.block.backward_weight.flops = linear;
  c.block.backward_weight.bytes = traffic_bytes(q, kWeight, holding, 0);
  c.attention_core.flops = core;
  c.attention_core.bytes = traffic_bytes(q, TokenTraffic{0, 0, kForward.att}, holding, 0);

  const double tokens = static_cast<double>(q.micro_batch * q.seq_len);
  const double e = q.activation_bytes;
  // Embedding forward: read the token and position rows, write the sum (3 h); backward: read the
  // output gradient and add it into both tables' gradients (5 h).
  c.embedding.forward.bytes = 3 * h * tokens * e;
  c.embedding.backward_weight.bytes = 5 * h * tokens * e;

  const double vocab = static_cast<double>(q.dims.padded_vocab) / t;  // this rank's rows
  const double norm_share = holding == RegionHolding::whole ? 1.0 : 1.0 / t;
  c.head.forward.flops = 2.0 * tokens * h * vocab;
  c.head.backward_input.flops = 2.0 * tokens * h * vocab;
  c.head.backward_weight.flops = 2.0 * tokens * h * vocab;
  // Final LayerNorm (2 h forward, 3 h backward); the loss reads the logits twice (row maximum,
  // then exponentials) and its backward reads them once and writes their gradient.
  c.head.forward.bytes = (2 * h * norm_share + 3 * vocab) * tokens * e;
  c.head.backward_input.bytes = (3 * h * norm_share + 3 * vocab) * tokens * e;
  return c;
}

void add_embedding_and_head_collectives(const LayerCostQuery& q, RegionHolding holding,
                                        LayerCost& c) {
  if (q.tensor <= 1) return;
  const double tokens = static_cast<double>(q.micro_batch * q.seq_len);
  const double S = q.activation_bytes * tokens * static_cast<double>(q.dims.hidden);
  const bool whole = holding == RegionHolding::whole;
  c.embedding.forward.collectives = {
      {whole ? CollectiveKind::all_reduce : CollectiveKind::reduce_scatter, TensorSubgroup::whole,
       S, 1}};
  // The softmax statistics: each row's maximum, then its sum of exponentials and target logit.
  c.head.forward.collectives = {{CollectiveKind::all_reduce, TensorSubgroup::whole, 4 * tokens, 1},
                                {CollectiveKind::all_reduce, TensorSubgroup::whole, 8 * tokens, 1}};
  if (whole) {
    c.head.backward_input.collectives = {{CollectiveKind::all_reduce, TensorSubgroup::whole, S, 1}};
  } else {
    c.head.forward.collectives.push_back({CollectiveKind::all_gather, TensorSubgroup::whole, S, 1});
    c.head.backward_input.collectives = {
        {CollectiveKind::reduce_scatter, TensorSubgroup::whole, S, 1}};
  }
}

HeadStash head_stash(const LayerCostQuery& q, RegionHolding holding, bool head_input_whole) {
  const double h = static_cast<double>(q.dims.hidden), t = q.tensor;
  const double norm_out = holding == RegionHolding::whole ? h : h / t;
  const double head_input = head_input_whole ? h : 0.0;
  const double logits = static_cast<double>(q.dims.padded_vocab) / t;
  HeadStash s;
  // Final LayerNorm output and statistics, the head's input, the logits, the loss statistics.
  s.after_forward = norm_out + 2 + head_input + logits + 3;
  // After its input gradient the head keeps the logits' gradient and its input, and passes d_h,
  // which the final norm turns into the top block's output gradient.
  s.after_input = logits + 3 + norm_out + head_input + h;
  s.logits = logits;
  s.backward_workspace = 2 * h;  // d_h and the final norm's input gradient
  return s;
}

}  // namespace trellis::layers
