// Error bounds for each CPU kernel's float32 results, element by element, from the kernel's
// inputs: the tolerances of test_kernels_golden. Built on tests/numerics/error_bound.h (u, gamma).
//
// Inputs are float32 values (held here as double) and exact; the bounds are on |float32 result -
// exact result| for any order of summation. Reductions: gamma(K) times the sum of the K terms'
// magnitudes. Composite kernels: each step's rounding, and the errors of the values it was given,
// carried to first order through the steps after it (the derivation is next to each function).
// Elementwise exp (vector_math.h's vexp) is taken to be within 4 ulps (u each) of exp.
#pragma once

#include <cstdint>
#include <vector>

namespace trellis::test::numerics::kernel_bounds {

using Values = std::vector<double>;

// out[n, o] = sum_c x[n, c] w[o, c] (+ b[o]).
Values linear_out(const Values& x, const Values& w, const Values* b, std::int64_t n, std::int64_t c,
                  std::int64_t oc);
// dx[n, c] = sum_o dout[n, o] w[o, c].
Values linear_dx(const Values& dout, const Values& w, std::int64_t n, std::int64_t c,
                 std::int64_t oc);
// dw[o, c] = prefill + calls * sum_n dout[n, o] x[n, c] (each call adds onto the last).
Values linear_dw(const Values& dout, const Values& x, const Values& prefill, int calls,
                 std::int64_t n, std::int64_t c, std::int64_t oc);
// db[o] = prefill + calls * sum_n dout[n, o].
Values linear_db(const Values& dout, const Values& prefill, int calls, std::int64_t n,
                 std::int64_t oc);

struct LayerNorm {
  Values out, mean, rstd, dx, dw, db;
};
// LayerNorm over rows of c with eps; dw and db added `calls` times onto their prefills.
LayerNorm layernorm(const Values& x, const Values& w, const Values& b, const Values& dout,
                    const Values& prefill_dw, const Values& prefill_db, int calls, std::int64_t n,
                    std::int64_t c, double eps);

// GELU (tanh): out and dx = gelu'(x) dout.
Values gelu_out(const Values& x);
Values gelu_dx(const Values& x, const Values& dout);

struct Attention {
  Values out, probs, dqkv;
};
// Causal attention on qkv[B, T, 3C] with `heads` heads; dout[B, T, C].
Attention attention(const Values& qkv, const Values& dout, std::int64_t B, std::int64_t T,
                    std::int64_t C, std::int64_t heads);

// Embedding: out = wte[token] + wpe[t] (one rounding); d(table)[row] = prefill + sum of dout
// over the positions that read the row (tokens or positions); `rows` of width c.
Values embedding_out(const Values& out);
Values embedding_grad(const std::vector<std::int64_t>& row_of_position, const Values& dout,
                      const Values& prefill, std::int64_t rows, std::int64_t c);

// Cross-entropy over columns [begin, end) of logits[n, cols] (the real ones of a shard), with the
// global row max: sum of exponentials, the loss sum over all rows of the whole (unsharded) row,
// and dlogits = exp(z - max) * scale / sumexp - scale at the target.
Values xent_sumexp(const Values& logits, const Values& max, std::int64_t n, std::int64_t cols,
                   std::int64_t begin, std::int64_t end);
// The loss sum over all rows from (possibly combined) sums of exponentials and their bounds.
double xent_loss_sum(const Values& sumexp, const Values& sumexp_bound, const Values& max,
                     const Values& target_logit);
// dlogits of a shard of `cols` columns standing for ids [begin, begin + cols).
Values xent_dlogits(const Values& logits, const Values& max, const Values& sumexp,
                    const Values& sumexp_bound, const std::vector<std::int64_t>& targets,
                    double scale, std::int64_t n, std::int64_t cols, std::int64_t begin,
                    std::int64_t vocab);

struct AdamW {
  std::vector<Values> param, m, v;  // per step
};
// AdamW (torch's order) from param with the given gradients per step; m, v start at 0.
AdamW adamw(const Values& param, const std::vector<Values>& grads, double lr, double beta1,
            double beta2, double eps, double weight_decay);

struct RmsNorm {
  Values out, rstd, dx, dw;
};
// RMSNorm over rows of c with eps (the float the kernel is given); dw added `calls` times onto
// its prefill.
RmsNorm rmsnorm(const Values& x, const Values& w, const Values& dout, const Values& prefill_dw,
                int calls, std::int64_t n, std::int64_t c, double eps);

struct SwiGlu {
  Values out, dgate_up;
};
// SwiGLU on gate_up[n, 2f] (gate, then up) with dout[n, f].
SwiGlu swiglu(const Values& gate_up, const Values& dout, std::int64_t n, std::int64_t f);

// Rotary positions on in[B, T, W] (`heads` heads of `head_dim` from column `col`, token t at
// positions[t], base theta), turned either way: the bound on each element of the float result
// given its exact value `exact` (0 outside the heads, which are left as they are).
Values rope(const Values& in, const Values& exact, std::int64_t B, std::int64_t W, std::int64_t col,
            std::int64_t heads, std::int64_t head_dim, const std::vector<std::int64_t>& positions,
            double theta);

// out = alpha * A B + beta * before, A [m, k] and B [k, n] given as their elements a(i, p),
// b(p, j) (transposes already applied).
Values matmul(const Values& a, const Values& b, const Values& before, double alpha, double beta,
              std::int64_t m, std::int64_t n, std::int64_t k);

}  // namespace trellis::test::numerics::kernel_bounds
