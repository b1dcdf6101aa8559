#include "bf16_kernel_cases.h"

#include <cmath>

#include "bf16_bounds.h"
#include "bf16_emulation.h"

namespace trellis::gpu_test {

namespace {

void expect(Devices& d, std::vector<std::string>& failures, const std::string& what,
            const Pair& pair, const std::vector<double>& bound) {
  const std::string wrong = d.compare(pair, bound);
  if (!wrong.empty()) failures.push_back(what + ": " + wrong);
}

}  // namespace

std::vector<std::string> bf16_matmul_cases(Devices& d) {
  std::vector<std::string> failures;
  const int m = 37, n = 29, k = 45;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // a and b are views of wider matrices (row stride larger than their width).
      const Pair a_full = d.random({ta ? k : m, (ta ? m : k) + 5}, 50);
      const Pair b_full = d.random({tb ? n : k, (tb ? k : n) + 3}, 51);
      const Pair out = d.random({m, n}, 52);
      auto a_of = [&](const Tensor& t) { return t.narrow(1, 2, ta ? m : k); };
      auto b_of = [&](const Tensor& t) { return t.narrow(1, 1, tb ? k : n); };
      const std::vector<double> bound =
          matmul_bound(a_of(a_full.host), ta, b_of(b_full.host), tb, 0.75f, 0.5f, out.host);
      on_both(d, [&](Kernels& kernels, auto at) {
        kernels.matmul(a_of(at(a_full)), ta, b_of(at(b_full)), tb, at(out), 0.75f, 0.5f);
      });
      expect(d, failures, std::string("matmul ta=") + (ta ? "1" : "0") + " tb=" + (tb ? "1" : "0"),
             out, bound);
    }
  }
  return failures;
}

std::vector<std::string> bf16_rounded_operand_cases(Devices& d) {
  std::vector<std::string> failures;
  const int m = 33, n = 41, k = 48;
  const Pair a = d.random({m, k}, 53), b = d.random({k, n}, 54), out = d.zeros({m, n});
  d.device().matmul(a.device, false, b.device, false, out.device, 1.0f, 0.0f);
  // The reference, into the host copy: sum of bf(a) bf(b) in double, rounded to float once.
  const float* pa = a.host.data<float>();
  const float* pb = b.host.data<float>();
  float* want = out.host.data<float>();
  std::vector<double> bound(static_cast<std::size_t>(m * n));
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0, magnitude = 0.0;
      for (int l = 0; l < k; ++l) {
        const double x = static_cast<double>(round_to_bf16(pa[i * k + l])) *
                         static_cast<double>(round_to_bf16(pb[l * n + j]));
        sum += x;
        magnitude += std::fabs(x);
      }
      want[i * n + j] = static_cast<float>(sum);
      // The device's fp32 accumulation (bf16_bounds.h) and the reference's rounding to float.
      bound[static_cast<std::size_t>(i * n + j)] =
          gamma(2.0 * k + 1.0, kAccumulationUnit) * magnitude + kF32Unit * std::fabs(sum);
    }
  }
  expect(d, failures, "matmul of bf16 operands", out, bound);
  return failures;
}

std::vector<std::string> bf16_linear_cases(Devices& d) {
  std::vector<std::string> failures;
  const int n = 70, c = 48, oc = 80;
  const Pair x = d.random({n, c}, 55), w = d.random({oc, c}, 56, 0.2f), b = d.random({oc}, 57);
  const Pair out = d.zeros({n, oc}), dout = d.random({n, oc}, 58);
  const Pair dx = d.zeros({n, c}), dw = d.random({oc, c}, 59), db = d.random({oc}, 60);
  const std::vector<double> out_bound = linear_forward_bound(x.host, w.host, b.host);
  const LinearBackwardBounds bounds =
      linear_backward_bounds(dout.host, x.host, w.host, dw.host, db.host);
  on_both(d, [&](Kernels& k, auto at) {
    k.linear_forward(at(x), at(w), at(b), at(out));
    k.linear_backward(at(dout), at(x), at(w), at(dx), at(dw), at(db));
  });
  expect(d, failures, "linear_forward out", out, out_bound);
  expect(d, failures, "linear_backward dx", dx, bounds.dx);
  expect(d, failures, "linear_backward dw", dw, bounds.dw);
  expect(d, failures, "linear_backward db", db, bounds.db);
  return failures;
}

std::vector<std::string> bf16_attention_cases(Devices& d) {
  std::vector<std::string> failures;
  const int B = 3, T = 37, C = 48, NH = 4;
  const Pair qkv = d.random({B, T, 3 * C}, 61), out = d.zeros({B, T, C});
  const Pair probs = d.zeros({B, NH, T, T});
  const Pair dout = d.random({B, T, C}, 62), dqkv = d.random({B, T, 3 * C}, 63);
  // Each device's backward uses its own forward's probabilities.
  on_both(d, [&](Kernels& k, auto at) {
    k.attention_forward(at(qkv), NH, at(out), at(probs));
    k.attention_backward(at(dout), at(qkv), at(probs), NH, at(dqkv));
  });
  const AttentionBounds forward = attention_forward_bounds(qkv.host, NH, probs.host);
  expect(d, failures, "attention_forward probs", probs, forward.probs);
  expect(d, failures, "attention_forward out", out, forward.out);
  expect(d, failures, "attention_backward dqkv", dqkv,
         attention_backward_bound(dout.host, qkv.host, probs.host, forward.probs, NH));
  return failures;
}

}  // namespace trellis::gpu_test
