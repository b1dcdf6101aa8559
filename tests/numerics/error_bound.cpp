#include "error_bound.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace trellis::test::numerics {

double gamma(double n) {
  const double nu = n * kUnitRoundoff;
  if (nu >= 1.0) throw std::invalid_argument("gamma(n): n u >= 1, no bound");
  return nu / (1.0 - nu);
}

std::string Comparison::describe() const {
  std::ostringstream s;
  s << "|actual - expected| = " << err << " at element " << at << " (actual " << actual
    << ", expected " << expected << "), bound " << bound << ": ratio " << worst_ratio
    << (finite ? "" : "; NOT FINITE");
  return s.str();
}

namespace {

template <typename Expected, typename BoundAt>
Comparison compare_with(std::span<const float> actual, std::span<const Expected> expected,
                        BoundAt bound_at) {
  if (actual.size() != expected.size()) {
    throw std::invalid_argument("compare: " + std::to_string(actual.size()) + " values against " +
                                std::to_string(expected.size()));
  }
  Comparison c;
  bool first = true;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], want = static_cast<double>(expected[i]), bound = bound_at(i);
    if (!std::isfinite(a)) c.finite = false;
    const double err = std::abs(a - want);
    // A zero bound admits only an exact match (ratio 0 or infinite).
    const double ratio = err == 0.0 ? 0.0 : (bound > 0.0 ? err / bound : HUGE_VAL);
    if (first || ratio > c.worst_ratio || !std::isfinite(a)) {
      c.worst_ratio = std::isfinite(a) ? ratio : HUGE_VAL;
      c.err = err, c.bound = bound, c.actual = a, c.expected = want, c.at = i;
      first = false;
    }
  }
  return c;
}

}  // namespace

Comparison compare(std::span<const float> actual, std::span<const double> expected,
                   std::span<const double> bound) {
  if (bound.size() != expected.size()) throw std::invalid_argument("compare: bound size");
  return compare_with(actual, expected, [&](std::size_t i) { return bound[i]; });
}

Comparison compare(std::span<const float> actual, std::span<const double> expected, double bound) {
  return compare_with(actual, expected, [=](std::size_t) { return bound; });
}

Comparison compare(std::span<const float> actual, std::span<const float> expected,
                   std::span<const double> bound) {
  if (bound.size() != expected.size()) throw std::invalid_argument("compare: bound size");
  return compare_with(actual, expected, [&](std::size_t i) { return bound[i]; });
}

Comparison compare(std::span<const float> actual, std::span<const float> expected, double bound) {
  return compare_with(actual, expected, [=](std::size_t) { return bound; });
}

Comparison compare_scalar(double actual, double expected, double bound) {
  Comparison c;
  c.actual = actual, c.expected = expected, c.bound = bound;
  c.finite = std::isfinite(actual);
  c.err = std::abs(actual - expected);
  c.worst_ratio =
      !c.finite ? HUGE_VAL : (c.err == 0.0 ? 0.0 : (bound > 0 ? c.err / bound : HUGE_VAL));
  return c;
}

void report(const std::string& test, const std::string& what, const Comparison& c) {
  const char* file = std::getenv("TRELLIS_NUMERICS_REPORT");
  if (file == nullptr || *file == '\0') return;
  char line[512];
  const int n = std::snprintf(line, sizeof(line), "%s\t%s\t%.6g\n", test.c_str(), what.c_str(),
                              c.worst_ratio);
  if (n <= 0) return;
  const int fd = ::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // One write of a short line to an O_APPEND file lands whole.
  [[maybe_unused]] ssize_t written =
      ::write(fd, line, static_cast<std::size_t>(std::min<int>(n, sizeof(line) - 1)));
  ::close(fd);
}

// --- The GPT's rounding paths ----------------------------------------------------------------
//
// Each stage adds the length of its longest reduction (the terms of one output element), or the
// roundings of an elementwise step, to the chain. C hidden, hs = C / heads, T the key axis, Vp the
// padded vocabulary (the head's reduction in backward; the softmax sums the real columns only,
// fewer). Tensor-parallel splits of a reduction add the same terms in another order: the same
// count.

namespace {

double layernorm_forward_path(double C) {
  return C        // mean
         + C + 1  // variance of (x - mean)
         + 2      // + eps, 1 / sqrt
         + 3;     // (x - mean) * rstd * w + b
}

double layernorm_backward_path(double C) {
  return 2     // dnorm = w * dout, norm = (x - mean) * rstd
         + C   // mean of dnorm * norm
         + 4;  // (dnorm - mean - norm * mean2) * rstd
}

double block_forward_path(const GptShape& s) {
  const double C = static_cast<double>(s.hidden), T = static_cast<double>(s.seq);
  const double hs = C / static_cast<double>(s.heads);
  return layernorm_forward_path(C)    // ln1
         + C + 1                      // qkv = x W^T + b
         + hs + 1                     // scores = q k^T / sqrt(hs)
         + 3 + T + 1                  // softmax: exp (a few ulps), row sum, divide
         + T                          // P v
         + C + 1                      // attention projection
         + 1                          // residual
         + layernorm_forward_path(C)  // ln2
         + C + 1                      // fc
         + 10                         // GELU: tanh through exp, a polynomial of a few roundings
         + 4 * C + 1                  // mlp projection
         + 1;                         // residual
}

double block_backward_path(const GptShape& s) {
  const double C = static_cast<double>(s.hidden), T = static_cast<double>(s.seq);
  const double hs = C / static_cast<double>(s.heads);
  return C                             // mlp projection: dh = dout W
         + 12                          // GELU derivative
         + 4 * C                       // fc: dx = dh W
         + layernorm_backward_path(C)  // ln2
         + 1                           // residual
         + C                           // attention projection
         + hs                          // dP = dO v^T
         + T + 3                       // softmax backward: P * (dP - rowsum(P * dP))
         + T + 1                       // dq = dS k / sqrt(hs) (dk and dv are as long)
         + 3 * C                       // qkv: dx = dqkv W
         + layernorm_backward_path(C)  // ln1
         + 1;                          // residual
}

}  // namespace

double gpt_logits_path(const GptShape& s) {
  const double C = static_cast<double>(s.hidden);
  return 1                                                        // token + position embedding
         + static_cast<double>(s.layers) * block_forward_path(s)  // the blocks
         + layernorm_forward_path(C)                              // final LayerNorm
         + C;                                                     // logits = x wte^T
}

double gpt_forward_path(const GptShape& s) {
  return gpt_logits_path(s)                         // the logits
         + 3 + static_cast<double>(s.padded_vocab)  // exp, sum of exponentials over the row
         + 4;                                       // log, + max - target, mean
}

double gpt_gradient_path(const GptShape& s) {
  const double C = static_cast<double>(s.hidden);
  return gpt_forward_path(s)                                       // activations and loss
         + 6                                                       // dlogits
         + static_cast<double>(s.padded_vocab)                     // dx = dlogits wte
         + layernorm_backward_path(C)                              // final LayerNorm
         + static_cast<double>(s.layers) * block_backward_path(s)  // down to the first block
         + static_cast<double>(s.batch_tokens) + 1;  // the gradient's sum over tokens, += grad
}

double composite_bound(double path, double last_terms, double scale) {
  return gamma(path) * std::sqrt(std::max(1.0, last_terms)) * std::abs(scale);
}

double gpt_gradient_bound(const GptShape& shape, double max_abs_gradient) {
  return composite_bound(gpt_gradient_path(shape), static_cast<double>(shape.batch_tokens),
                         max_abs_gradient);
}

double gpt_loss_bound(const GptShape& shape, double loss) {
  return gamma(gpt_forward_path(shape)) * 3.0 * std::abs(loss);
}

double gpt_grad_norm_bound(const GptShape& shape, double norm, std::int64_t count) {
  return (composite_bound(gpt_gradient_path(shape), static_cast<double>(shape.batch_tokens), 1.0) +
          gamma(static_cast<double>(count)) / 2.0) *
         std::abs(norm);
}

// --- The LLaMA's rounding paths (the derivation is in error_bound.h) ---------------------

namespace {

double rmsnorm_forward_path(double C) {
  return C     // sum of x^2
         + 1   // / C
         + 1   // eps rounded to float (the kernel's argument; the reference's is the double)
         + 2   // + eps, sqrt
         + 1   // reciprocal
         + 2;  // x * rstd * w
}

double rmsnorm_backward_path(double C) {
  return 2        // w * dout, x * rstd
         + C + 1  // their mean over the row
         + 3;     // (w * dout - xhat * mean) * rstd
}

constexpr double kRopePath = 1     // cos and sin rounded to float
                             + 2;  // a cos - b sin

double llama_block_forward_path(const LlamaShape& s) {
  const double C = static_cast<double>(s.hidden), T = static_cast<double>(s.seq);
  const double hd = C / static_cast<double>(s.heads), F = static_cast<double>(s.ffn_hidden);
  return rmsnorm_forward_path(C)    // ln1
         + C                        // q, k, v = x W^T
         + kRopePath                // rotary positions on q and k
         + hd + 1                   // scores = q k^T / sqrt(hd)
         + 3 + T + 1                // softmax: exp (a few ulps), row sum, divide
         + T                        // P v
         + C                        // attention projection
         + 1                        // residual
         + rmsnorm_forward_path(C)  // ln2
         + C                        // gate and up
         + 6                        // silu(gate) * up
         + F                        // down projection
         + 1;                       // residual
}

double llama_block_backward_path(const LlamaShape& s) {
  const double C = static_cast<double>(s.hidden), T = static_cast<double>(s.seq);
  const double hd = C / static_cast<double>(s.heads);
  const double group = static_cast<double>(s.heads) / static_cast<double>(s.kv_heads);
  const double F = static_cast<double>(s.ffn_hidden);
  return C                           // down projection: dh = dout W_down
         + 12                        // SwiGLU derivative
         + 2 * F                     // gate and up: dx = dgate W_gate + dup W_up
         + rmsnorm_backward_path(C)  // ln2
         + 1                         // residual
         + C                         // attention projection
         + hd                        // dP = dO v^T
         + T + 3                     // softmax backward: P * (dP - rowsum(P * dP))
         + T * group + 1             // dk, dv of a kv head: its query heads' T queries each
         + kRopePath                 // inverse rotation of dq and dk
         + C + 2 * hd * static_cast<double>(s.kv_heads)  // dx = dq Wq + dk Wk + dv Wv
         + rmsnorm_backward_path(C)                      // ln1
         + 1;                                            // residual
}

}  // namespace

double llama_logits_path(const LlamaShape& s) {
  const double C = static_cast<double>(s.hidden);
  // The embedding is a copy: exact.
  return static_cast<double>(s.layers) * llama_block_forward_path(s)  // the blocks
         + rmsnorm_forward_path(C)                                    // final RMSNorm
         + C;                                                         // logits = x lm_head^T
}

double llama_forward_path(const LlamaShape& s) {
  return llama_logits_path(s)                       // the logits
         + 3 + static_cast<double>(s.padded_vocab)  // exp, sum of exponentials over the row
         + 4;                                       // log, + max - target, mean
}

double llama_gradient_path(const LlamaShape& s) {
  const double C = static_cast<double>(s.hidden);
  return llama_forward_path(s)                                           // activations and loss
         + 6                                                             // dlogits
         + static_cast<double>(s.padded_vocab)                           // dx = dlogits lm_head
         + rmsnorm_backward_path(C)                                      // final RMSNorm
         + static_cast<double>(s.layers) * llama_block_backward_path(s)  // down to block 0
         + static_cast<double>(s.batch_tokens) + 1;  // the gradient's sum over tokens, += grad
}

double llama_gradient_bound(const LlamaShape& shape, double max_abs_gradient) {
  return composite_bound(llama_gradient_path(shape), static_cast<double>(shape.batch_tokens),
                         max_abs_gradient);
}

double llama_loss_bound(const LlamaShape& shape, double loss) {
  return gamma(llama_forward_path(shape)) * 3.0 * std::abs(loss);
}

double llama_grad_norm_bound(const LlamaShape& shape, double norm, std::int64_t count) {
  return (composite_bound(llama_gradient_path(shape), static_cast<double>(shape.batch_tokens),
                          1.0) +
          gamma(static_cast<double>(count)) / 2.0) *
         std::abs(norm);
}

}  // namespace trellis::test::numerics
