#include "plan/layer_work.h"

#include <cmath>

namespace trellis::plan {

ActionWork& ActionWork::operator+=(const ActionWork& other) {
  flops += other.flops;
  bytes += other.bytes;
  comm.insert(comm.end(), other.comm.begin(), other.comm.end());
  return *this;
}

PassWork& PassWork::operator+=(const PassWork& other) {
  forward += other.forward;
  backward_input += other.backward_input;
  backward_weight += other.backward_weight;
  return *this;
}

PassWork PassWork::scaled(double times) const {
  PassWork out = *this;
  for (ActionWork* w : {&out.forward, &out.backward_input, &out.backward_weight}) {
    w->flops *= times;
    w->bytes *= times;
    for (CommCall& c : w->comm) c.count *= times;
  }
  return out;
}

namespace {

// Element-wise values per token of a block (see layer_work.h): replicated, split, attention.
struct Traffic {
  double rep, split, att;
};
constexpr Traffic kForward{10, 8, 1.5};
constexpr Traffic kInput{12, 12, 1.5};
constexpr Traffic kWeight{2, 7, 0};
// seq's conversions between region order and sequence order, values per token each way.
constexpr double kSeqReorder = 8;

double traffic_bytes(const WorkShape& w, const Traffic& c, double extra_split) {
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double h = static_cast<double>(w.hidden), t = w.tensor;
  const double att = static_cast<double>(w.heads * w.seq_len) / t;
  const bool shards = w.mode != TensorMode::one_d;  // seq and 2d keep no replicated values
  const double values =
      (shards ? c.rep * h / t : c.rep * h) + (c.split + extra_split) * h / t + c.att * att;
  return tokens * values * w.activation_bytes;
}

// The forward's collectives (a recomputed forward repeats them).
std::vector<CommCall> forward_comm(const WorkShape& w) {
  const double S = w.activation_bytes * static_cast<double>(w.micro_batch * w.seq_len * w.hidden);
  if (w.tensor <= 1) return {};
  switch (w.mode) {
    case TensorMode::one_d:
      return {{Collective::all_reduce, TensorGroupPart::whole, S, 2}};
    case TensorMode::seq:
      return {{Collective::all_gather, TensorGroupPart::whole, S, 2},
              {Collective::reduce_scatter, TensorGroupPart::whole, S, 2}};
    case TensorMode::two_d:
      break;
  }
  // 2d: SUMMA per linear, plus the LayerNorm statistics and parameter gathers.
  const double e = w.activation_bytes, q = std::round(std::sqrt(static_cast<double>(w.tensor)));
  const double h = static_cast<double>(w.hidden);
  const double rows = static_cast<double>(w.micro_batch * w.seq_len) / q;
  std::vector<CommCall> calls;
  for (auto [in, out] : {std::pair{h, 3 * h}, {h, h}, {h, 4 * h}, {4 * h, h}}) {
    calls.push_back({Collective::broadcast, TensorGroupPart::row, e * rows * in / q, q});
    calls.push_back({Collective::broadcast, TensorGroupPart::column, e * out * in / (q * q), q});
    calls.push_back({Collective::all_gather, TensorGroupPart::column, e * out / q, 1});
  }
  calls.push_back({Collective::all_reduce, TensorGroupPart::row, 4 * rows, 4});
  calls.push_back({Collective::all_gather, TensorGroupPart::column, 4 * h / q, 4});
  return calls;
}

}  // namespace

PassWork block_work(const WorkShape& w) {
  const double b = static_cast<double>(w.micro_batch), s = static_cast<double>(w.seq_len);
  const double h = static_cast<double>(w.hidden), t = w.tensor;
  const double S = w.activation_bytes * b * s * h;
  const double linear = 24.0 * b * s * h * h / t;
  const double core = 4.0 * b * s * s * h / t;  // scores and weighted sum
  const bool seq = w.mode == TensorMode::seq;

  PassWork p;
  p.forward.flops = linear + core;
  p.forward.bytes = traffic_bytes(w, kForward, seq ? kSeqReorder : 0);
  p.forward.comm = forward_comm(w);

  p.backward_input.flops = linear + 2.0 * core;
  p.backward_input.bytes = traffic_bytes(w, kInput, seq ? kSeqReorder : 0);
  p.backward_weight.flops = linear;
  p.backward_weight.bytes = traffic_bytes(w, kWeight, 0);
  if (w.tensor > 1) {
    switch (w.mode) {
      case TensorMode::one_d:
        p.backward_input.comm = {{Collective::all_reduce, TensorGroupPart::whole, S, 2}};
        break;
      case TensorMode::seq:
        p.backward_input.comm = forward_comm(w);
        p.backward_weight.comm = {
            {Collective::all_gather, TensorGroupPart::whole, S, 2},
            {Collective::all_reduce, TensorGroupPart::whole, 4.0 * 4.0 * h, 1}};
        break;
      case TensorMode::two_d: {
        const double e = w.activation_bytes, q = std::round(std::sqrt(t));
        const double rows = b * s / q;
        for (auto [in, out] : {std::pair{h, 3 * h}, {h, h}, {h, 4 * h}, {4 * h, h}}) {
          const double x_block = e * rows * in / q, w_block = e * out * in / (q * q);
          p.backward_input.comm.push_back(
              {Collective::broadcast, TensorGroupPart::column, w_block, q});
          p.backward_input.comm.push_back({Collective::reduce, TensorGroupPart::row, x_block, q});
          p.backward_weight.comm.push_back(
              {Collective::broadcast, TensorGroupPart::row, x_block, q});
          p.backward_weight.comm.push_back(
              {Collective::reduce, TensorGroupPart::column, 4.0 * out * in / (q * q), q});
          p.backward_weight.comm.push_back(
              {Collective::reduce_scatter, TensorGroupPart::column, 4.0 * out / q, 1});
        }
        p.backward_input.comm.push_back(
            {Collective::all_reduce, TensorGroupPart::row, 8 * rows, 2});
        p.backward_weight.comm.push_back(
            {Collective::reduce_scatter, TensorGroupPart::column, 4 * h / q, 4});
        break;
      }
    }
  }
  switch (w.recompute) {
    case Recompute::none:
      break;
    case Recompute::full:
      p.backward_input += p.forward;
      break;
    case Recompute::selective:
      p.backward_input.flops += core;
      p.backward_input.bytes += traffic_bytes(w, Traffic{0, 0, kForward.att}, 0);
      break;
  }
  return p;
}

PassWork embedding_work(const WorkShape& w) {
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double h = static_cast<double>(w.hidden), e = w.activation_bytes;
  PassWork p;
  // Forward: read the token and position rows, write the sum (3 h); backward: read the output
  // gradient and add it into both tables' gradients (5 h).
  p.forward.bytes = 3 * h * tokens * e;
  p.backward_weight.bytes = 5 * h * tokens * e;
  if (w.tensor > 1) {
    const double S = e * tokens * h;
    p.forward.comm = {
        {w.mode == TensorMode::one_d ? Collective::all_reduce : Collective::reduce_scatter,
         TensorGroupPart::whole, S, 1}};
  }
  return p;
}

PassWork head_work(const WorkShape& w) {
  const double tokens = static_cast<double>(w.micro_batch * w.seq_len);
  const double h = static_cast<double>(w.hidden), t = w.tensor, e = w.activation_bytes;
  const double vocab = static_cast<double>(w.vocab) / t;  // this rank's rows
  const double norm_share = w.mode == TensorMode::one_d ? 1.0 : 1.0 / t;
  PassWork p;
  p.forward.flops = 2.0 * tokens * h * vocab;
  p.backward_input.flops = 2.0 * tokens * h * vocab;
  p.backward_weight.flops = 2.0 * tokens * h * vocab;
  // Final LayerNorm (2 h forward, 3 h backward); the loss reads the logits twice (row maximum,
  // then exponentials) and its backward reads them once and writes their gradient.
  p.forward.bytes = (2 * h * norm_share + 3 * vocab) * tokens * e;
  p.backward_input.bytes = (3 * h * norm_share + 3 * vocab) * tokens * e;
  if (w.tensor > 1) {
    const double S = e * tokens * h;
    // The softmax statistics: each row's maximum, then its sum of exponentials and target logit.
    p.forward.comm = {{Collective::all_reduce, TensorGroupPart::whole, 4 * tokens, 1},
                      {Collective::all_reduce, TensorGroupPart::whole, 8 * tokens, 1}};
    if (w.mode == TensorMode::one_d) {
      p.backward_input.comm = {{Collective::all_reduce, TensorGroupPart::whole, S, 1}};
    } else {
      p.forward.comm.push_back({Collective::all_gather, TensorGroupPart::whole, S, 1});
      p.backward_input.comm = {{Collective::reduce_scatter, TensorGroupPart::whole, S, 1}};
    }
  }
  return p;
}

double pipeline_message_bytes(const WorkShape& w) {
  const double S = w.activation_bytes * static_cast<double>(w.micro_batch * w.seq_len * w.hidden);
  return w.mode == TensorMode::one_d ? S : S / w.tensor;
}

}  // namespace trellis::plan
