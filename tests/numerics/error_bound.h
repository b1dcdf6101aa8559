// Error bounds for float32 results, shared by the golden and equivalence tests: every tolerance in
// those tests is one of these formulas, stated next to the comparison, never a number tuned to
// what one machine's kernels produced.
//
// The model (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., ch. 2-3):
// - u = 2^-24, float32's unit roundoff: each float operation returns the exact result times
//   (1 + d), |d| <= u (no underflow; fused multiply-adds only round less).
// - A sum of n terms computed in ANY order (sequential, pairwise, blocked, vectorised, split over
//   threads or ranks) is off by at most gamma(n) = n u / (1 - n u) times the sum of the terms'
//   magnitudes; so is a dot product of length n, and each element of a matrix product (the
//   reduction length is the inner dimension). The order-independence is what makes the bound
//   hold under every OpenBLAS kernel and every layout.
// - Errors along a chain of computations compose: k steps with gamma(a) and gamma(b) give at most
//   gamma(a + b) (Higham, Lemma 3.3). A composite result (a model's loss or a parameter gradient)
//   is bounded by gamma(P) times its magnitude, P the longest chain of rounded terms from the
//   inputs to it (gpt_gradient_path below counts it for the GPT).
// Comparisons against PyTorch (float64 from the same float32 inputs) use one bound; comparisons
// of two float32 runs use two (each is within one bound of the exact result).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace trellis::test::numerics {

inline constexpr double kUnitRoundoff = 0x1p-24;

// gamma(n) = n u / (1 - n u); n u must stay below 1.
double gamma(double n);

// How a computed tensor compares with a reference under a per-element bound.
struct Comparison {
  double worst_ratio =
      0.0;           // max over elements of |actual - expected| / bound (the headroom's inverse)
  double err = 0.0;  // the error and bound at that element
  double bound = 0.0;
  double actual = 0.0, expected = 0.0;
  std::size_t at = 0;
  bool finite = true;  // no NaN or infinity in `actual`

  bool ok() const { return finite && worst_ratio <= 1.0; }
  // "|actual - expected| = E at element I (actual A, expected X), bound B: ratio R"
  std::string describe() const;
};

// `bound` is per element (same size as `expected`) or one value for all.
Comparison compare(std::span<const float> actual, std::span<const double> expected,
                   std::span<const double> bound);
Comparison compare(std::span<const float> actual, std::span<const double> expected, double bound);
Comparison compare(std::span<const float> actual, std::span<const float> expected,
                   std::span<const double> bound);
Comparison compare(std::span<const float> actual, std::span<const float> expected, double bound);
Comparison compare_scalar(double actual, double expected, double bound);

// With TRELLIS_NUMERICS_REPORT set to a file name, appends "test<TAB>what<TAB>ratio" (one line,
// one write, so ranks and tests running at once do not interleave): .ci/numerics collects the
// worst ratio of each test under each OpenBLAS core type, the headroom of every bound.
void report(const std::string& test, const std::string& what, const Comparison& c);

// --- Composite results of the GPT ---------------------------------------------------------

// What a bound on the GPT needs to know of the model and the batch.
struct GptShape {
  std::int64_t padded_vocab = 0;
  std::int64_t hidden = 0;  // C
  std::int64_t heads = 0;
  std::int64_t layers = 0;
  std::int64_t seq = 0;           // T, tokens per sequence (the attention's key axis)
  std::int64_t batch_tokens = 0;  // tokens whose terms a parameter gradient sums (global batch)
};

// P for the loss: the longest chain of rounded terms from the inputs to it (forward only).
double gpt_forward_path(const GptShape& shape);
// P for the logits (forward up to the LM head's product).
double gpt_logits_path(const GptShape& shape);
// P for a parameter gradient: forward, the backward chain down to the first layer, and the
// final sum over the batch's tokens.
double gpt_gradient_path(const GptShape& shape);

// The bound on a composite result with `scale` its largest magnitude and `last_terms` the
// length of its final reduction: gamma(path) * sqrt(last_terms) * scale. The sqrt factor stands
// for the magnitude of the final sum's terms, which exceeds the result where they cancel: a
// gradient sums one term per token and those terms do not share a sign, so their magnitudes add
// up to about sqrt(N) times the largest result (for the tiny GPT-2 the exact ratio is 1.2-4.6
// with N = 36, make_golden.py checks it stays below sqrt(N)).
double composite_bound(double path, double last_terms, double scale);

// Each gradient element within composite_bound(gpt_gradient_path, batch_tokens, max|G|) of exact.
double gpt_gradient_bound(const GptShape& shape, double max_abs_gradient);

// The loss: a mean of per-token losses, each the log of a sum of positive terms (no
// cancellation), so relative to the loss itself; the logits' absolute errors move a token's loss
// by at most twice as much (its gradient in the logits has 1-norm <= 2), and at these models'
// scale the logits are smaller than the loss: gamma(forward path) * 3 |loss|.
double gpt_loss_bound(const GptShape& shape, double loss);

// The gradient norm: sqrt of a sum of squares (positive terms). Each element is within the
// gradient bound of its tensor; the norm's relative error is that of the elements that make it
// up: gamma(gradient path) * sqrt(batch_tokens) * norm, plus gamma(count) / 2 for the sum of the
// squares of `count` elements.
double gpt_grad_norm_bound(const GptShape& shape, double norm, std::int64_t count);

// --- Composite results of a LLaMA-style model ---------------------------------------------
//
// The same argument as for the GPT, stage by stage along the LLaMA block (ModelArchitecture in
// trellis/config.h; tests/golden/llama_reference.py is the reference), in error_bound.cpp:
// - RMSNorm: x . x over C channels (C), / C, + eps, sqrt, reciprocal, x * rstd * w, and 1 for
//   eps itself, which the kernel takes as a float (moving rstd by at most u / 2): C + 7
//   forward; backward w * dout, x * rstd, their dot product over C (C + 1), then three
//   elementwise steps: C + 6.
// - Rotary positions: cos and sin computed in double and rounded to float (1), then
//   a cos - b sin, a dot product of length 2 (2): 3, forward and backward alike.
// - No biases: a linear layer's reduction is its inner dimension alone; q, k and v are one
//   reduction over C forward, and one over C + 2 kv_heads hd backward (dq Wq + dk Wk + dv Wv).
// - Grouped-query attention: a kv head's dk and dv sum over the T queries of each of its
//   heads / kv_heads query heads: T heads / kv_heads terms.
// - SwiGLU: silu(g) up = g / (1 + exp(-g)) * up: exp (a few ulps, 3 as for the softmax), the
//   sum, the quotient, the product: 6 forward; its derivative s (1 + g (1 - s)) with
//   s = 1 / (1 + exp(-g)) through the same exp, times dout and up: 12 (as GELU's); the fc
//   backward dx = dgate W_gate + dup W_up is one reduction over 2F.
// - The embedding is a copy (no position table to add): exact. The head is its own weight
//   (not tied), the same reduction lengths as the GPT's: C forward, Vp backward.
struct LlamaShape {
  std::int64_t padded_vocab = 0;
  std::int64_t hidden = 0;  // C
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;
  std::int64_t ffn_hidden = 0;  // F
  std::int64_t layers = 0;
  std::int64_t seq = 0;           // T, tokens per sequence (the attention's key axis)
  std::int64_t batch_tokens = 0;  // tokens whose terms a parameter gradient sums (global batch)
};

double llama_forward_path(const LlamaShape& shape);
double llama_logits_path(const LlamaShape& shape);
double llama_gradient_path(const LlamaShape& shape);
// As gpt_gradient_bound, gpt_loss_bound (the same premise, logits smaller than the loss, which
// make_golden.py checks for the tiny LLaMA) and gpt_grad_norm_bound, with the LLaMA's paths.
double llama_gradient_bound(const LlamaShape& shape, double max_abs_gradient);
double llama_loss_bound(const LlamaShape& shape, double loss);
double llama_grad_norm_bound(const LlamaShape& shape, double norm, std::int64_t count);

}  // namespace trellis::test::numerics
