#include "moe_mlp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "collectives.h"

namespace trellis::layers {

MoeMlp::MoeMlp(const FamilyContext& ctx, const std::string& prefix, const std::string& layer)
    : ctx_(ctx), moe_(ctx.moe), layer_(layer) {
  if (ctx.kernels->device().kind != DeviceKind::cpu) {
    throw UnsupportedError(layer_ +
                           ": the MoE MLP runs on CPU kernels only (its routing is host loops)");
  }
  if ((ctx.dispatcher != nullptr) != (moe_.expert_parallel > 1)) {
    throw Error(layer_ + ": expert parallelism " + std::to_string(moe_.expert_parallel) +
                (ctx.dispatcher ? " with" : " without") + " a token dispatcher");
  }
  const std::int64_t C = ctx.dims.hidden, H = 4 * C, E = moe_.experts, L = local_experts();
  const std::int64_t Hl = H / ctx.tensor_size, r = ctx.tensor_rank, first = first_local_expert();
  const int tp = ctx.tensor_size;
  const float std = 0.02f;
  const float residual_std = std / std::sqrt(2.0f * static_cast<float>(ctx.dims.layers));
  const auto& a = ctx.allocator;
  const std::string p = prefix + "moe.";
  // The expert biases do not decay, like every bias in Trellis, although stacking the experts
  // makes them 2-D (an AdamW that decays by dimension would decay them; the reference goes by
  // name).
  router_w_ =
      make_parameter(p + "router.weight", {E, C}, replicated({E, C}, tp), true, normal(std), a);
  fc_w_ = make_parameter(p + "experts.fc.weight", {L, Hl, C}, {{E, H, C}, {first, r * Hl, 0}, 1},
                         true, normal(std), a);
  fc_b_ = make_parameter(p + "experts.fc.bias", {L, Hl}, {{E, H}, {first, r * Hl}, 1}, false,
                         zeros(), a);
  proj_w_ = make_parameter(p + "experts.proj.weight", {L, C, Hl},
                           {{E, C, H}, {first, 0, r * Hl}, 1}, true, normal(residual_std), a);
  proj_b_ =
      make_parameter(p + "experts.proj.bias", {L, C}, {{E, C}, {first, 0}, tp}, false, zeros(), a);
  // Under expert parallelism the experts' gradients are summed over the expert-data group.
  for (Parameter* e : {&fc_w_, &fc_b_, &proj_w_, &proj_b_}) e->expert = moe_.expert_parallel > 1;
}

std::int64_t MoeMlp::local_experts() const {
  return moe_.experts / moe_.expert_parallel;
}

std::int64_t MoeMlp::first_local_expert() const {
  return ctx_.expert_rank * local_experts();
}

std::vector<Parameter*> MoeMlp::parameters() {
  return {&router_w_, &fc_w_, &fc_b_, &proj_w_, &proj_b_};
}

Tensor MoeMlp::expert_slice(const Tensor& stacked, std::int64_t e) const {
  const Shape& whole = stacked.shape();
  return stacked.narrow(0, e, 1).view(
      Shape(std::span<const std::int64_t>(whole.begin() + 1, whole.end())));
}

std::vector<std::int64_t> MoeMlp::local_rows(Stash& s,
                                             const std::vector<std::int64_t>& per_expert) {
  if (!ctx_.dispatcher) return per_expert;  // every expert is local
  s.counts = ctx_.dispatcher->exchange_counts(per_expert);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(local_experts()));
  for (std::int64_t l = 0; l < local_experts(); ++l) rows[l] = s.counts.rows_for_local_expert(l);
  return rows;
}

std::vector<std::int64_t> MoeMlp::rows_in_token_order() const {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), N = B * T;
  Tensor rows = Tensor::empty({B, T}, DType::i32, ctx_.allocator);
  auto* r = rows.data<std::int32_t>();
  for (std::int64_t n = 0; n < N; ++n) r[n] = static_cast<std::int32_t>(n);
  Tensor ordered = ctx_.region->to_sequence_order(rows);
  const auto* o = ordered.data<std::int32_t>();
  return std::vector<std::int64_t>(o, o + N);
}

Tensor MoeMlp::forward(const Microbatch& mb, const Tensor& x) {
  const std::int64_t B = ctx_.micro_batch, T = ctx_.seq_len(), C = ctx_.dims.hidden;
  const std::int64_t N = B * T, E = moe_.experts, K = moe_.top_k;
  const std::int64_t Hl = 4 * C / ctx_.tensor_size;
  Kernels& k = *ctx_.kernels;
  const bool adds_row_bias = ctx_.tensor_rank == 0;

  Stash local;
  Stash& s = mb.training ? stashes_.create(mb.id, layer_) : local;
  s.x = x.view({N, C});

  // Router: softmax over the experts of each token, in fp32.
  Tensor logits = ctx_.empty({N, E});
  k.matmul(s.x, false, router_w_.value, true, logits);
  const float* lg = logits.data<float>();
  s.probs.assign(static_cast<std::size_t>(N * E), 0.0f);
  for (std::int64_t n = 0; n < N; ++n) {
    const float* row = lg + n * E;
    const float max = *std::max_element(row, row + E);
    double sum = 0.0;
    for (std::int64_t e = 0; e < E; ++e) {
      const float v = std::exp(row[e] - max);
      s.probs[n * E + e] = v;
      sum += v;
    }
    for (std::int64_t e = 0; e < E; ++e)
      s.probs[n * E + e] = static_cast<float>(s.probs[n * E + e] / sum);
  }

  // Top k, highest first (the lower expert first among equals), and the renormalised gates.
  s.chosen.assign(static_cast<std::size_t>(N * K), 0);
  s.gates.assign(static_cast<std::size_t>(N * K), 0.0f);
  s.top_sum.assign(static_cast<std::size_t>(N), 0.0f);
  std::vector<std::int64_t> routed(static_cast<std::size_t>(E), 0);
  std::vector<char> taken(static_cast<std::size_t>(E));
  for (std::int64_t n = 0; n < N; ++n) {
    const float* p = s.probs.data() + n * E;
    std::fill(taken.begin(), taken.end(), 0);
    float sum = 0.0f;
    for (std::int64_t j = 0; j < K; ++j) {
      std::int64_t best = -1;
      for (std::int64_t e = 0; e < E; ++e)
        if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
      taken[best] = 1;
      s.chosen[n * K + j] = static_cast<std::int32_t>(best);
      sum += p[best];
      ++routed[best];
    }
    s.top_sum[n] = sum;
    for (std::int64_t j = 0; j < K; ++j) s.gates[n * K + j] = p[s.chosen[n * K + j]] / sum;
  }

  // Capacity: choices are taken in token order, a token's first choice before its second.
  const std::int64_t capacity = moe_.capacity(N);
  std::vector<char> kept(static_cast<std::size_t>(N * K), 1);
  std::int64_t dropped = 0;
  if (capacity >= 0) {
    std::vector<std::int64_t> load(static_cast<std::size_t>(E), 0);
    for (std::int64_t n : rows_in_token_order()) {
      for (std::int64_t j = 0; j < K; ++j) {
        const std::int32_t e = s.chosen[n * K + j];
        if (load[e] >= capacity) {
          kept[n * K + j] = 0;
          ++dropped;
        } else {
          ++load[e];
        }
      }
    }
  }

  // The load-balancing loss: f_i fixed, P_i the mean probability.
  s.routed_share.assign(static_cast<std::size_t>(E), 0.0);
  double aux = 0.0;
  for (std::int64_t e = 0; e < E; ++e) {
    s.routed_share[e] = static_cast<double>(routed[e]) / static_cast<double>(N * K);
    double mean_p = 0.0;
    for (std::int64_t n = 0; n < N; ++n) mean_p += s.probs[n * E + e];
    aux += s.routed_share[e] * mean_p / static_cast<double>(N);
  }
  aux *= moe_.aux_loss_coeff * static_cast<double>(E);

  // Each kept choice becomes a row for its expert: rows sorted by expert, then token row.
  s.sent.assign(static_cast<std::size_t>(E), SentChoices{});
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t j = 0; j < K; ++j) {
      if (!kept[n * K + j]) continue;
      SentChoices& c = s.sent[s.chosen[n * K + j]];
      c.rows.push_back(n);
      c.slots.push_back(j);
    }
  }
  std::vector<std::int64_t> per_expert(static_cast<std::size_t>(E));
  std::int64_t sent_rows = 0;
  for (std::int64_t e = 0; e < E; ++e) {
    per_expert[e] = static_cast<std::int64_t>(s.sent[e].rows.size());
    sent_rows += per_expert[e];
  }
  Tensor send = ctx_.empty({sent_rows, C});
  {
    float* dst = send.data<float>();
    const float* xs = s.x.data<float>();
    for (const SentChoices& c : s.sent) {
      for (std::int64_t n : c.rows) {
        std::memcpy(dst, xs + n * C, static_cast<std::size_t>(C) * sizeof(float));
        dst += C;
      }
    }
  }

  // To the experts' ranks (nothing moves without expert parallelism), the local experts over
  // their rows, and their outputs back.
  s.local_rows = local_rows(s, per_expert);
  Tensor received = ctx_.dispatcher ? ctx_.dispatcher->dispatch(s.counts, send) : send;
  Tensor y_local = ctx_.empty({received.shape()[0], C});
  s.local.assign(static_cast<std::size_t>(local_experts()), LocalExpert{});
  std::int64_t at = 0;
  for (std::int64_t l = 0; l < local_experts(); ++l) {
    LocalExpert& w = s.local[l];
    const std::int64_t count = s.local_rows[l];
    w.begin = at;
    at += count;
    if (count == 0) continue;
    w.x = received.narrow(0, w.begin, count);
    w.fc = ctx_.empty({count, Hl});
    k.linear_forward(w.x, expert_slice(fc_w_.value, l), expert_slice(fc_b_.value, l), w.fc);
    w.gelu = ctx_.empty({count, Hl});
    k.gelu_forward(w.fc, w.gelu);
    k.linear_forward(w.gelu, expert_slice(proj_w_.value, l),
                     adds_row_bias ? expert_slice(proj_b_.value, l) : Tensor(),
                     y_local.narrow(0, w.begin, count));
  }
  s.y = ctx_.dispatcher ? ctx_.dispatcher->combine(s.counts, y_local) : y_local;

  // gate x output summed into this rank's partial, expert by expert.
  Tensor out = ctx_.empty({B, T, C});
  k.fill(out, 0.0f);
  float* o = out.data<float>();
  const float* y = s.y.data<float>();
  for (const SentChoices& c : s.sent) {
    for (std::size_t i = 0; i < c.rows.size(); ++i, y += C) {
      const float gate = s.gates[c.rows[i] * K + c.slots[i]];
      float* dst = o + c.rows[i] * C;
      for (std::int64_t ch = 0; ch < C; ++ch) dst[ch] += gate * y[ch];
    }
  }

  if (mb.training) {
    MoeStatistics step;
    step.aux_loss = aux;
    step.dropped = dropped;
    step.routed_count = E;
    step.routed_min = *std::min_element(routed.begin(), routed.end());
    step.routed_max = *std::max_element(routed.begin(), routed.end());
    for (std::int64_t r : routed) step.routed_sum += r;
    ctx_.moe_statistics->add(step);
  }
  return out;
}

Tensor MoeMlp::backward_input(const Microbatch& mb, const Tensor& d_out) {
  const std::int64_t C = ctx_.dims.hidden, N = ctx_.tokens(), E = moe_.experts, K = moe_.top_k;
  const std::int64_t Hl = 4 * C / ctx_.tensor_size;
  Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.get(mb.id, layer_);
  const float* dout = d_out.data<float>();

  Tensor d_x = ctx_.empty({N, C});
  k.fill(d_x, 0.0f);
  float* dx = d_x.data<float>();
  // d gate = d_out . y over this rank's part of y; summed over the tensor group below. The
  // experts' output gradients, gate x d_out, go to the experts as their inputs went.
  Tensor d_gates = ctx_.empty({N, K});
  k.fill(d_gates, 0.0f);
  float* dg = d_gates.data<float>();
  Tensor d_sent = ctx_.empty({s.y.shape()[0], C});
  {
    const float* y = s.y.data<float>();
    float* dy = d_sent.data<float>();
    for (const SentChoices& c : s.sent) {
      for (std::size_t i = 0; i < c.rows.size(); ++i, y += C, dy += C) {
        const std::int64_t n = c.rows[i];
        const float gate = s.gates[n * K + c.slots[i]];
        double dot = 0.0;
        for (std::int64_t ch = 0; ch < C; ++ch) {
          dot += static_cast<double>(dout[n * C + ch]) * y[ch];
          dy[ch] = gate * dout[n * C + ch];
        }
        dg[n * K + c.slots[i]] = static_cast<float>(dot);
      }
    }
  }
  s.y = Tensor();
  Tensor d_received = ctx_.dispatcher ? ctx_.dispatcher->dispatch(s.counts, d_sent) : d_sent;
  Tensor d_x_local = ctx_.empty({d_received.shape()[0], C});
  for (std::int64_t l = 0; l < local_experts(); ++l) {
    LocalExpert& w = s.local[l];
    const std::int64_t count = s.local_rows[l];
    if (count == 0) continue;
    w.d_y = d_received.narrow(0, w.begin, count);
    w.d_fc = ctx_.empty({count, Hl});
    k.matmul(w.d_y, false, expert_slice(proj_w_.value, l), false, w.d_fc);
    k.gelu_backward(w.fc, w.d_fc, w.d_fc);
    k.matmul(w.d_fc, false, expert_slice(fc_w_.value, l), false,
             d_x_local.narrow(0, w.begin, count));
    w.fc = Tensor();
  }
  Tensor d_x_sent = ctx_.dispatcher ? ctx_.dispatcher->combine(s.counts, d_x_local) : d_x_local;
  {
    const float* src = d_x_sent.data<float>();
    for (const SentChoices& c : s.sent) {
      for (std::int64_t n : c.rows) {
        float* dst = dx + n * C;
        for (std::int64_t ch = 0; ch < C; ++ch) dst[ch] += src[ch];
        src += C;
      }
    }
  }
  if (ctx_.tensor_size > 1) all_reduce_sum(ctx_.tensor, d_gates);

  // Through the renormalisation, the top k and the softmax, with the aux loss's gradient:
  // d aux / d p[n][i] = coeff x E x f_i / N.
  s.d_logits = ctx_.empty({N, E});
  float* dl = s.d_logits.data<float>();
  const double aux_grad = static_cast<double>(mb.aux_loss_scale) * moe_.aux_loss_coeff *
                          static_cast<double>(E) / static_cast<double>(N);
  std::vector<double> d_p(static_cast<std::size_t>(E));
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t e = 0; e < E; ++e) d_p[e] = aux_grad * s.routed_share[e];
    double weighted = 0.0;  // sum_l d gate_l x gate_l
    for (std::int64_t j = 0; j < K; ++j)
      weighted += static_cast<double>(dg[n * K + j]) * s.gates[n * K + j];
    for (std::int64_t j = 0; j < K; ++j)
      d_p[s.chosen[n * K + j]] += (dg[n * K + j] - weighted) / s.top_sum[n];
    const float* p = s.probs.data() + n * E;
    double dot = 0.0;
    for (std::int64_t e = 0; e < E; ++e) dot += d_p[e] * p[e];
    for (std::int64_t e = 0; e < E; ++e) dl[n * E + e] = static_cast<float>(p[e] * (d_p[e] - dot));
  }
  // The router is replicated: its input gradient, whole on every rank, is added once.
  if (ctx_.tensor_rank == 0) k.matmul(s.d_logits, false, router_w_.value, false, d_x, 1.0f, 1.0f);
  s.probs = {};
  return d_x.view({ctx_.micro_batch, ctx_.seq_len(), C});
}

void MoeMlp::backward_weight(const Microbatch& mb) {
  Kernels& k = *ctx_.kernels;
  Stash& s = stashes_.get(mb.id, layer_);
  k.matmul(s.d_logits, true, s.x, false, router_w_.grad, 1.0f, 1.0f);
  for (std::int64_t l = 0; l < local_experts(); ++l) {
    LocalExpert& w = s.local[l];
    if (s.local_rows[l] == 0) continue;
    k.linear_backward(w.d_y, w.gelu, expert_slice(proj_w_.value, l), Tensor(),
                      expert_slice(proj_w_.grad, l), expert_slice(proj_b_.grad, l));
    k.linear_backward(w.d_fc, w.x, expert_slice(fc_w_.value, l), Tensor(),
                      expert_slice(fc_w_.grad, l), expert_slice(fc_b_.grad, l));
  }
  stashes_.erase(mb.id);
}

}  // namespace trellis::layers
