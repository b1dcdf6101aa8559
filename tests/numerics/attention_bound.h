// Causal attention evaluated in double, with the float32 error bound of each output element: what
// the block-attention tests (context parallelism) compare the kernels against.
//
// The bound follows error_bound.h's model, with one addition for the exponentials. A score
// s = q.k / sqrt(hs) is off by at most ds = gamma(hs + 2) * max over pairs of |q|.|k| / sqrt(hs)
// (a dot product, the scaling, the subtraction of a row maximum or lse). An exponent's absolute
// error becomes a relative error of exp(): every softmax weight P = exp(s - x), x a row maximum
// or a row's lse, carries a relative error of at most
//   eta = 4 ds + u (4 S + 2 L + 16 + 8 m) + gamma(Tk + 10),
// with S the largest |score|, L the largest |lse|, m the merges of partial results: two score
// errors each for s and x (x is itself a score, or a log-sum of them), the rounding of s - x and
// of lse's final addition (relative to their size), the exp() and log() roundings (vexp is within
// a few ulps, 8 allowed) plus the online-softmax merges' exp() and log1p(), and the row's sum of
// Tk exponentials. Past the exponentials the results are sums of products, each within
// gamma(path) of the same expression over absolute values (its "magnitude"):
//   out  within (eta + gamma(Tk + 3m + 4)) * sum_j P_ij |v_j|
//   lse  within eta + gamma(Tk + 3m + 4) (absolute)
//   dq, dk, dv within (eta + gamma(2 hs + Tq + Tk + 3m + 16)) * their magnitude, where dS's
//   magnitude is P_ij (|dO_i|.|v_j| + D_i's), and D_i = dO_i . out_i (the kernels form it from
//   the forward's out, whose error is the out bound) is bounded by 2 sum_j P_ij |dO_i|.|v_j|.
// These bound one float32 evaluation; two float32 evaluations (say of blocks and of the whole
// sequence) differ by at most the sum of their bounds.
#pragma once

#include <span>
#include <vector>

namespace trellis::test::numerics {

// qkv[B,T,3C] (queries, keys, values; NH heads), dout[B,T,C].
struct AttentionReference {
  int batch = 0, seq = 0, channels = 0, heads = 0;
  std::vector<double> out;   // [B,T,C]
  std::vector<double> lse;   // [B,NH,T]: log of each row's softmax denominator
  std::vector<double> dqkv;  // [B,T,3C]
  // The magnitudes of the bound (above), element by element.
  std::vector<double> out_magnitude, dqkv_magnitude;
  double score_error = 0;    // ds
  double max_abs_score = 0;  // S
  double max_abs_lse = 0;    // L
};

AttentionReference attention_reference(std::span<const float> qkv, std::span<const float> dout,
                                       int B, int T, int C, int NH);

// The per-element bounds of one float32 evaluation that merges `merges` partial results per row.
struct AttentionBounds {
  std::vector<double> out, lse, dqkv;
};
AttentionBounds attention_bounds(const AttentionReference& reference, int merges);

}  // namespace trellis::test::numerics
