#include "dense_mlp.h"

#include "parameters.h"

namespace trellis::layers {

DenseMlp::DenseMlp(const FamilyContext& ctx, const std::string& prefix, float residual_std)
    : swiglu_(ctx.arch.mlp == ModelArchitecture::Mlp::swiglu), local_ffn_(ctx.local_ffn()) {
  const std::int64_t C = ctx.dims.hidden, F = ctx.arch.ffn_hidden, Fl = ctx.local_ffn();
  const std::int64_t r = ctx.tensor_rank;
  const int tp = ctx.tensor_size;
  const auto& a = ctx.allocator;
  if (swiglu_) {
    fc_w_ = make_parameter(prefix + "fc.weight", {2, Fl, C}, {{2, F, C}, {0, r * Fl, 0}, 1}, true,
                           normal(0.02f), a);
    if (ctx.arch.bias) {
      fc_b_ =
          make_parameter(prefix + "fc.bias", {2, Fl}, {{2, F}, {0, r * Fl}, 1}, false, zeros(), a);
    }
  } else {
    fc_w_ = make_parameter(prefix + "fc.weight", {Fl, C}, {{F, C}, {r * Fl, 0}, 1}, true,
                           normal(0.02f), a);
    if (ctx.arch.bias) {
      fc_b_ = make_parameter(prefix + "fc.bias", {Fl}, {{F}, {r * Fl}, 1}, false, zeros(), a);
    }
  }
  proj_w_ = make_parameter(prefix + "proj.weight", {C, Fl}, {{C, F}, {0, r * Fl}, 1}, true,
                           normal(residual_std), a);
  if (ctx.arch.bias) {
    proj_b_ = make_parameter(prefix + "proj.bias", {C}, replicated({C}, tp), false, zeros(), a);
  }
}

std::vector<Parameter*> DenseMlp::parameters() {
  std::vector<Parameter*> out;
  for (Parameter* p : {&fc_w_, &fc_b_, &proj_w_, &proj_b_})
    if (p->value.defined()) out.push_back(p);
  return out;
}

Tensor DenseMlp::forward(const FamilyContext& ctx, const Tensor& x, Stash& s) const {
  const std::int64_t B = x.shape()[0], T = x.shape()[1], C = ctx.dims.hidden;
  const std::int64_t rows = fc_rows(), Fl = ctx.local_ffn();
  Kernels& k = *ctx.kernels;
  s.fc = ctx.empty({B, T, rows});
  k.linear_forward(x, fc_w_.value.view({rows, C}),
                   fc_b_.value.defined() ? fc_b_.value.view({rows}) : Tensor(), s.fc);
  s.act = ctx.empty({B, T, Fl});
  if (swiglu_) {
    k.swiglu_forward(s.fc.view({B * T, rows}), s.act.view({B * T, Fl}));
  } else {
    k.gelu_forward(s.fc, s.act);
  }
  Tensor out = ctx.empty({B, T, C});
  const bool adds_bias = ctx.tensor_rank == 0 && proj_b_.value.defined();
  k.linear_forward(s.act, proj_w_.value, adds_bias ? proj_b_.value : Tensor(), out);
  return out;
}

Tensor DenseMlp::backward_input(const FamilyContext& ctx, const Tensor& d_out, Stash& s) const {
  const std::int64_t B = d_out.shape()[0], T = d_out.shape()[1], C = ctx.dims.hidden;
  const std::int64_t N = B * T, rows = fc_rows(), Fl = ctx.local_ffn();
  Kernels& k = *ctx.kernels;
  Tensor d_act = ctx.empty({N, Fl});
  k.matmul(d_out.view({N, C}), false, proj_w_.value, false, d_act);
  if (swiglu_) {
    s.d_fc = ctx.empty({B, T, rows});
    k.swiglu_backward(s.fc.view({N, rows}), d_act, s.d_fc.view({N, rows}));
  } else {
    // GELU's input gradient goes into the activation gradient's own buffer.
    k.gelu_backward(s.fc, d_act, d_act);
    s.d_fc = d_act.view({B, T, Fl});
  }
  Tensor d_x = ctx.empty({B, T, C});
  k.matmul(s.d_fc.view({N, rows}), false, fc_w_.value.view({rows, C}), false, d_x.view({N, C}));
  s.fc = Tensor();
  return d_x;
}

void DenseMlp::backward_weight(const FamilyContext& ctx, const Tensor& x, const Tensor& d_out,
                               const Stash& s) {
  const std::int64_t C = ctx.dims.hidden, rows = fc_rows();
  Kernels& k = *ctx.kernels;
  k.linear_backward(d_out, s.act, proj_w_.value, Tensor(), proj_w_.grad, proj_b_.grad);
  k.linear_backward(s.d_fc, x, fc_w_.value.view({rows, C}), Tensor(), fc_w_.grad.view({rows, C}),
                    fc_b_.grad.defined() ? fc_b_.grad.view({rows}) : Tensor());
}

}  // namespace trellis::layers
