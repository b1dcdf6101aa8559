#include "tiny_gpt.h"

#include <cmath>

#include "bf16_bounds.h"

namespace trellis::gpu_test {

namespace {

constexpr int V = TinyGpt::kVocab, C = TinyGpt::kChannels, NH = TinyGpt::kHeads, T = TinyGpt::kSeq,
              B = TinyGpt::kBatch, N = TinyGpt::kRows;

}  // namespace

TinyGpt::TinyGpt(Devices& devices)
    : d_(devices),
      x0_(d_.zeros({N, C})),
      h1_(d_.zeros({N, C})),
      mean1_(d_.zeros({N})),
      rstd1_(d_.zeros({N})),
      qkv_(d_.zeros({B, T, 3 * C})),
      probs_(d_.zeros({B, NH, T, T})),
      att_(d_.zeros({N, C})),
      a_(d_.zeros({N, C})),
      x1_(d_.zeros({N, C})),
      h2_(d_.zeros({N, C})),
      mean2_(d_.zeros({N})),
      rstd2_(d_.zeros({N})),
      f_(d_.zeros({N, 4 * C})),
      g_(d_.zeros({N, 4 * C})),
      mm_(d_.zeros({N, C})),
      x2_(d_.zeros({N, C})),
      hf_(d_.zeros({N, C})),
      meanf_(d_.zeros({N})),
      rstdf_(d_.zeros({N})),
      logits_(d_.zeros({N, V})),
      max_(d_.zeros({N})),
      sumexp_(d_.zeros({N})),
      tlogit_(d_.zeros({N})),
      dhf_(d_.zeros({N, C})),
      dx2_(d_.zeros({N, C})),
      dg_(d_.zeros({N, 4 * C})),
      df_(d_.zeros({N, 4 * C})),
      dh2_(d_.zeros({N, C})),
      dtmp_(d_.zeros({N, C})),
      dx1_(d_.zeros({N, C})),
      datt_(d_.zeros({N, C})),
      dqkv_(d_.zeros({B, T, 3 * C})),
      dh1_(d_.zeros({N, C})),
      dx0_(d_.zeros({N, C})) {
  struct Spec {
    const char* name;
    Shape shape;
    bool norm_weight;  // drawn around 1 rather than 0
  };
  const Spec specs[] = {{"wte", {V, C}, false},
                        {"wpe", {T, C}, false},
                        {"ln1.w", {C}, true},
                        {"ln1.b", {C}, false},
                        {"qkv.w", {3 * C, C}, false},
                        {"qkv.b", {3 * C}, false},
                        {"proj.w", {C, C}, false},
                        {"proj.b", {C}, false},
                        {"ln2.w", {C}, true},
                        {"ln2.b", {C}, false},
                        {"fc.w", {4 * C, C}, false},
                        {"fc.b", {4 * C}, false},
                        {"fcproj.w", {C, 4 * C}, false},
                        {"fcproj.b", {C}, false},
                        {"lnf.w", {C}, true},
                        {"lnf.b", {C}, false}};
  std::uint64_t seed = 100;
  for (const Spec& spec : specs) {
    Param p{spec.name, d_.random(spec.shape, seed++, spec.norm_weight ? 0.1f : 0.2f),
            d_.zeros(spec.shape), d_.zeros(spec.shape), d_.zeros(spec.shape)};
    if (spec.norm_weight) {
      Pair ones = d_.zeros(spec.shape);
      on_both(d_, [&](Kernels& k, auto at) {
        k.fill(at(ones), 1.0f);
        k.accumulate(at(p.value), at(ones));
      });
    }
    params_.push_back(std::move(p));
  }
}

namespace {

enum ParamIndex {
  wte,
  wpe,
  ln1w,
  ln1b,
  qkvw,
  qkvb,
  projw,
  projb,
  ln2w,
  ln2b,
  fcw,
  fcb,
  fcpw,
  fcpb,
  lnfw,
  lnfb
};

}  // namespace

TinyGpt::Figures TinyGpt::forward_backward(Side side, const Pair& tokens, const Pair& targets,
                                           ProductChecks* checks) {
  Kernels& k = side == Side::cpu ? d_.cpu() : d_.device();
  auto at = [side](const Pair& p) { return side == Side::cpu ? p.host : p.device; };
  auto value = [&](int i) { return at(params_[static_cast<std::size_t>(i)].value); };
  auto grad = [&](int i) { return at(params_[static_cast<std::size_t>(i)].grad); };
  // The products, through the checks when given.
  auto linear_forward = [&](const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out) {
    if (checks) return checks->linear_forward(x, w, b, out);
    k.linear_forward(x, w, b, out);
  };
  auto linear_backward = [&](const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                             const Tensor& dw, const Tensor& db) {
    if (checks) return checks->linear_backward(dout, x, w, dx, dw, db);
    k.linear_backward(dout, x, w, dx, dw, db);
  };

  for (Param& p : params_) k.fill(at(p.grad), 0.0f);
  const Tensor qkv_rows = at(qkv_).view({N, 3 * C}), dqkv_rows = at(dqkv_).view({N, 3 * C});
  k.embedding_forward(at(tokens), value(wte), 0, value(wpe), at(x0_).view({B, T, C}));
  k.layernorm_forward(at(x0_), value(ln1w), value(ln1b), at(h1_), at(mean1_), at(rstd1_));
  linear_forward(at(h1_), value(qkvw), value(qkvb), qkv_rows);
  if (checks) {
    checks->attention_forward(at(qkv_), NH, at(att_).view({B, T, C}), at(probs_));
  } else {
    k.attention_forward(at(qkv_), NH, at(att_).view({B, T, C}), at(probs_));
  }
  linear_forward(at(att_), value(projw), value(projb), at(a_));
  k.add(at(x0_), at(a_), at(x1_));
  k.layernorm_forward(at(x1_), value(ln2w), value(ln2b), at(h2_), at(mean2_), at(rstd2_));
  linear_forward(at(h2_), value(fcw), value(fcb), at(f_));
  k.gelu_forward(at(f_), at(g_));
  linear_forward(at(g_), value(fcpw), value(fcpb), at(mm_));
  k.add(at(x1_), at(mm_), at(x2_));
  k.layernorm_forward(at(x2_), value(lnfw), value(lnfb), at(hf_), at(meanf_), at(rstdf_));
  linear_forward(at(hf_), value(wte), Tensor(), at(logits_));
  k.xent_row_max(at(logits_), 0, V, at(max_));
  k.xent_row_stats(at(logits_), at(targets), 0, V, at(max_), at(sumexp_), at(tlogit_));
  const double loss = k.xent_loss_sum(at(max_), at(sumexp_), at(tlogit_)) / N;

  k.xent_backward(at(logits_), at(targets), 0, V, at(max_), at(sumexp_), 1.0f / N, at(logits_));
  linear_backward(at(logits_), at(hf_), value(wte), at(dhf_), grad(wte), Tensor());
  k.layernorm_backward(at(dhf_), at(x2_), value(lnfw), at(meanf_), at(rstdf_), at(dx2_), grad(lnfw),
                       grad(lnfb));
  linear_backward(at(dx2_), at(g_), value(fcpw), at(dg_), grad(fcpw), grad(fcpb));
  k.gelu_backward(at(f_), at(dg_), at(df_));
  linear_backward(at(df_), at(h2_), value(fcw), at(dh2_), grad(fcw), grad(fcb));
  k.layernorm_backward(at(dh2_), at(x1_), value(ln2w), at(mean2_), at(rstd2_), at(dtmp_),
                       grad(ln2w), grad(ln2b));
  k.add(at(dx2_), at(dtmp_), at(dx1_));
  linear_backward(at(dx1_), at(att_), value(projw), at(datt_), grad(projw), grad(projb));
  if (checks) {
    checks->attention_backward(at(datt_).view({B, T, C}), at(qkv_), at(probs_), NH, at(dqkv_));
  } else {
    k.attention_backward(at(datt_).view({B, T, C}), at(qkv_), at(probs_), NH, at(dqkv_));
  }
  linear_backward(dqkv_rows, at(h1_), value(qkvw), at(dh1_), grad(qkvw), grad(qkvb));
  k.layernorm_backward(at(dh1_), at(x0_), value(ln1w), at(mean1_), at(rstd1_), at(dtmp_),
                       grad(ln1w), grad(ln1b));
  k.add(at(dx1_), at(dtmp_), at(dx0_));
  k.embedding_backward(at(tokens), at(dx0_).view({B, T, C}), 0, grad(wte), grad(wpe));

  double squares = 0.0;
  for (Param& p : params_) squares += k.sum_squares(at(p.grad));
  return {loss, std::sqrt(squares)};
}

void TinyGpt::update(Side side, const AdamWStep& optim) {
  Kernels& k = side == Side::cpu ? d_.cpu() : d_.device();
  for (Param& p : params_) {
    if (side == Side::cpu) {
      k.adamw(p.value.host, p.grad.host, p.m.host, p.v.host, optim);
    } else {
      k.adamw(p.value.device, p.grad.device, p.m.device, p.v.device, optim);
    }
  }
}

TinyGpt::Figures TinyGpt::step(Side side, const Pair& tokens, const Pair& targets,
                               const AdamWStep& optim) {
  const Figures figures = forward_backward(side, tokens, targets);
  update(side, optim);
  return figures;
}

void TinyGpt::copy_state_to_device() {
  for (Param& p : params_) {
    d_.device().copy(p.value.host, p.value.device);
    d_.device().copy(p.m.host, p.m.device);
    d_.device().copy(p.v.host, p.v.device);
  }
}

double TinyGpt::loss_rounding_bound() {
  auto value = [&](int i) { return params_[static_cast<std::size_t>(i)].value.host; };
  auto grad = [&](int i) { return params_[static_cast<std::size_t>(i)].grad.host; };
  // The LM head's share of the tied embedding's gradient: dlogits^T hf (logits_ holds dlogits).
  const Tensor head_grad = d_.zeros({V, C}).host;
  d_.cpu().matmul(logits_.host, true, hf_.host, false, head_grad, 1.0f, 0.0f);
  // The linears: out = x w^T, with dL/dx, dL/dw and dL/dout from the CPU's backward.
  struct Linear {
    const Pair &x, &dx;
    Tensor w, dw;
    const Pair& dout;
  };
  const Linear linears[] = {{h1_, dh1_, value(qkvw), grad(qkvw), dqkv_},
                            {att_, datt_, value(projw), grad(projw), dx1_},
                            {h2_, dh2_, value(fcw), grad(fcw), df_},
                            {g_, dg_, value(fcpw), grad(fcpw), dx2_},
                            {hf_, dhf_, value(wte), head_grad, logits_}};
  double bound = 0.0;
  for (const Linear& l : linears) {
    const Tensor dout = l.dout.host.view({N, l.w.size(0)});
    bound += loss_change_bound(l.x.host, false, l.w, true, 1.0f, l.dx.host, l.dw, dout);
  }
  bound += attention_loss_change_bound(qkv_.host, probs_.host, datt_.host, dqkv_.host, NH);
  // fp32 steps between the products (LayerNorm, GELU, bias and residual adds: a few roundings
  // each, 16 allowed) and the loss (the row's max, log-sum-exp and the target's logit).
  const std::pair<const Pair*, const Pair*> steps[] = {
      {&x0_, &dx0_}, {&h1_, &dh1_}, {&qkv_, &dqkv_}, {&att_, &datt_}, {&a_, &dx1_},  {&x1_, &dx1_},
      {&h2_, &dh2_}, {&f_, &df_},   {&g_, &dg_},     {&mm_, &dx2_},   {&x2_, &dx2_}, {&hf_, &dhf_}};
  for (const auto& [x, dx] : steps) bound += f32_loss_change_bound(x->host, dx->host, 16.0);
  double loss_terms = 0.0;
  for (int r = 0; r < N; ++r) {
    loss_terms += std::fabs(max_.host.data<float>()[r]) + std::fabs(tlogit_.host.data<float>()[r]) +
                  std::fabs(std::log(sumexp_.host.data<float>()[r])) + 2.0 * V;
  }
  return bound + 2.0 * 16.0 * kF32Unit * loss_terms / N;
}

}  // namespace trellis::gpu_test
