#include "product_checks.h"

#include "bf16_bounds.h"

namespace trellis::gpu_test {

void ProductChecks::expect(const char* kernel, const char* output, const Tensor& cpu,
                           const Tensor& device, const std::vector<double>& bound) {
  ++outputs_checked_;
  const std::string wrong = d_.compare(Pair{cpu, device}, bound);
  if (!wrong.empty()) {
    failures_.push_back(std::string(kernel) + " #" + std::to_string(calls_) + " " + output + ": " +
                        wrong);
  }
}

void ProductChecks::linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                                   const Tensor& out) {
  ++calls_;
  const Tensor hx = d_.to_host(x), hw = d_.to_host(w), hb = d_.to_host(b);
  const Tensor want = d_.to_host(out);
  d_.device().linear_forward(x, w, b, out);
  d_.cpu().linear_forward(hx, hw, hb, want);
  expect("linear_forward", "out", want, out, linear_forward_bound(hx, hw, hb));
}

void ProductChecks::linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                    const Tensor& dx, const Tensor& dw, const Tensor& db) {
  ++calls_;
  const Tensor hdout = d_.to_host(dout), hx = d_.to_host(x), hw = d_.to_host(w);
  const Tensor hdx = d_.to_host(dx), hdw = d_.to_host(dw), hdb = d_.to_host(db);
  const LinearBackwardBounds bounds = linear_backward_bounds(hdout, hx, hw, hdw, hdb);
  d_.device().linear_backward(dout, x, w, dx, dw, db);
  d_.cpu().linear_backward(hdout, hx, hw, hdx, hdw, hdb);
  if (dx.defined()) expect("linear_backward", "dx", hdx, dx, bounds.dx);
  expect("linear_backward", "dw", hdw, dw, bounds.dw);
  if (db.defined()) expect("linear_backward", "db", hdb, db, bounds.db);
}

void ProductChecks::attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                                      const Tensor& probs) {
  ++calls_;
  const Tensor hqkv = d_.to_host(qkv), hout = d_.to_host(out), hprobs = d_.to_host(probs);
  d_.device().attention_forward(qkv, heads, out, probs);
  d_.cpu().attention_forward(hqkv, heads, hout, hprobs);
  const AttentionBounds bounds = attention_forward_bounds(hqkv, heads, hprobs);
  expect("attention_forward", "probs", hprobs, probs, bounds.probs);
  expect("attention_forward", "out", hout, out, bounds.out);
}

void ProductChecks::attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs,
                                       int heads, const Tensor& dqkv) {
  ++calls_;
  const Tensor hdout = d_.to_host(dout), hqkv = d_.to_host(qkv), hprobs = d_.to_host(probs);
  const Tensor hdqkv = d_.to_host(dqkv);
  d_.device().attention_backward(dout, qkv, probs, heads, dqkv);
  d_.cpu().attention_backward(hdout, hqkv, hprobs, heads, hdqkv);
  // Both use the device's probabilities here: no difference to carry from the forward.
  const std::vector<double> same(static_cast<std::size_t>(hprobs.numel()), 0.0);
  expect("attention_backward", "dqkv", hdqkv, dqkv,
         attention_backward_bound(hdout, hqkv, hprobs, same, heads));
}

}  // namespace trellis::gpu_test
