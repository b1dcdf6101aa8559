// Bounds on |bf16 mixed-precision result - fp32 CPU result|, element by element, for the kernels
// whose precision differs between the two: the matrix products (matmul, linear) and attention.
// Each bound is computed from the magnitudes of that element's operands (host copies), not fixed.
//
// The model of the arithmetic (docs/gpu.md, "bf16 mixed precision"):
// - each operand of a product is rounded to bf16 once, to nearest: x(1 + d), |d| <= u = 2^-8
//   (8 significant bits); the product of two rounded operands is exact in fp32;
// - the sum of K such products is accumulated in fp32 by the tensor cores. They may truncate and
//   align several addends at once rather than round each addition (measured by Fasi, Higham,
//   Mikaitis and Pranesh, "Numerical behavior of NVIDIA tensor cores", 2021), so each addition is
//   given 2^-22 (four times fp32's unit roundoff) and a chain of 2K additions: gamma_2K(2^-22);
// - the CPU computes the same sum in fp32 with a relative error gamma_K(2^-24).
// For one output element with S = sum_k |a_k||b_k| this gives
//   |gpu - exact| <= (2u + u^2) S + (1 + u)^2 gamma_2K(2^-22) S   (bf16_product_error)
//   |cpu - exact| <= gamma_K(2^-24) S                                (f32_product_error)
// and the difference is bounded by their sum (plus the epilogues' roundings of alpha, beta and
// bias). The bf16 term, 2^-7 S, is what the check measures: 2^-7 of sum |a||b|, which for
// operands of random signs is about 2^-7 sqrt(K) times the element itself. A sum of one term
// (attention's dv for the last key is p dout alone) can come within a few percent of its bound,
// as both roundings may go the same way by almost u: the bound is a worst case, reached, never
// exceeded.
//
// Attention's softmax sits between its products, so its bounds carry the score errors through
// it: a row of scores perturbed by at most E per element moves each probability p by at most
// p (exp(2E) - 1) (the softmax of s + e is p exp(e_j) / sum_l p_l exp(e_l)).
#pragma once

#include <vector>

#include "trellis/tensor.h"

namespace trellis::gpu_test {

// Unit roundoffs: bf16 operands (round to nearest, 8 significant bits), fp32 on the CPU, and the
// tensor cores' fp32 accumulation (see above).
constexpr double kBf16Unit = 0x1p-8;
constexpr double kF32Unit = 0x1p-24;
constexpr double kAccumulationUnit = 0x1p-22;

// gamma_n(u) = n u / (1 - n u): the relative error bound of n roundings in a chain.
double gamma(double n, double unit);
// Relative to S = sum |a||b|: a bf16 product of length K against the exact one, epilogue (one
// more rounding of alpha or of the bias' addition) included.
double bf16_product_error(double K);
// The same for the CPU's fp32 product.
double f32_product_error(double K);

// out = alpha op(a) op(b) + beta out_before (all host tensors; 2-D views with contiguous rows).
std::vector<double> matmul_bound(const Tensor& a, bool ta, const Tensor& b, bool tb, float alpha,
                                 float beta, const Tensor& out_before);

// out[N,OC] = x[N,C] w[OC,C]^T + b.
std::vector<double> linear_forward_bound(const Tensor& x, const Tensor& w, const Tensor& b);

struct LinearBackwardBounds {
  std::vector<double> dx, dw, db;
};
// dx = dout w; dw = dw_before + dout^T x; db = db_before + column sums of dout (fp32 on both
// devices: only summation order differs).
LinearBackwardBounds linear_backward_bounds(const Tensor& dout, const Tensor& x, const Tensor& w,
                                            const Tensor& dw_before, const Tensor& db_before);

struct AttentionBounds {
  std::vector<double> probs;  // [B, NH, T, T]
  std::vector<double> out;    // [B, T, C] (forward) or dqkv [B, T, 3C] (backward)
};
// The forward of qkv[B,T,3C]; `probs` is the CPU's result (the reference), which the bounds
// are built around.
AttentionBounds attention_forward_bounds(const Tensor& qkv, int heads, const Tensor& probs);
// The backward from dout[B,T,C], where each device uses its own forward's probabilities: the
// device's may differ from the CPU's `probs` by `probs_bound` (attention_forward_bounds').
std::vector<double> attention_backward_bound(const Tensor& dout, const Tensor& qkv,
                                             const Tensor& probs,
                                             const std::vector<double>& probs_bound, int heads);

// How much a scalar loss L moves when one product's operands are rounded to bf16 and its sum is
// accumulated on the tensor cores (against the CPU's fp32 product), to first order: rounding a to
// a(1 + d) changes L by sum dL/da * a * d, so with |d| <= u the change is at most
// u <|a|, |dL/da|> (and the same for b), plus the accumulation's errors weighted by |dL/dout|:
//   u <|a|, |da|> + u <|b|, |db|> + (u^2 + accumulation(K)) <|alpha| |a||b|, |dout|>.
// da, db and dout are dL/da, dL/db, dL/dout as the CPU's backward computed them. Summed over the
// products of a forward pass this bounds |loss in bf16 - loss in fp32| from the same parameters:
// first order in the roundings, exact in how they propagate (the gradients carry them), so it
// stays tight through any depth where a chain of worst cases would not.
double loss_change_bound(const Tensor& a, bool ta, const Tensor& b, bool tb, float alpha,
                         const Tensor& da, const Tensor& db, const Tensor& dout);
// The same for attention's two products per head (scores = q k^T / sqrt(hs) and out = probs v),
// from the CPU's forward (qkv, probs) and backward (dout: dL/d out, dqkv: dL/d qkv).
double attention_loss_change_bound(const Tensor& qkv, const Tensor& probs, const Tensor& dout,
                                   const Tensor& dqkv, int heads);
// The fp32 roundings outside the products (LayerNorm, GELU, softmax, adds, the loss), on both
// devices: at most `roundings` of them on the way from a tensor x to the next, each changing L by
// at most kF32Unit <|x|, |dL/dx|>.
double f32_loss_change_bound(const Tensor& x, const Tensor& dx, double roundings);

}  // namespace trellis::gpu_test
