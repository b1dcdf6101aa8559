// ForwardingKernels: a Kernels that hands every call to another one. Test devices derive from it
// and override only the calls they change: the bf16 emulation (its products), and the faults the
// bf16 checks must catch (a wrong learning rate, a gradient term left out).
#pragma once

#include <memory>
#include <utility>

#include "trellis/kernels.h"

namespace trellis::gpu_test {

class ForwardingKernels : public Kernels {
 public:
  explicit ForwardingKernels(std::shared_ptr<Kernels> inner) : inner_(std::move(inner)) {}

  Device device() const override { return inner_->device(); }
  int threads() const override { return inner_->threads(); }

  void fill(const Tensor& t, float value) override { inner_->fill(t, value); }
  void copy(const Tensor& src, const Tensor& dst) override { inner_->copy(src, dst); }
  void add(const Tensor& a, const Tensor& b, const Tensor& out) override { inner_->add(a, b, out); }
  void accumulate(const Tensor& dst, const Tensor& src) override { inner_->accumulate(dst, src); }
  void scale(const Tensor& t, float factor) override { inner_->scale(t, factor); }
  double sum_squares(const Tensor& t) override { return inner_->sum_squares(t); }

  void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
              const Tensor& out, float alpha, float beta) override {
    inner_->matmul(a, transpose_a, b, transpose_b, out, alpha, beta);
  }
  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                      const Tensor& out) override {
    inner_->linear_forward(x, w, b, out);
  }
  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override {
    inner_->linear_backward(dout, x, w, dx, dw, db);
  }
  void layernorm_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out,
                         const Tensor& mean, const Tensor& rstd) override {
    inner_->layernorm_forward(x, w, b, out, mean, rstd);
  }
  void layernorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& mean,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dw,
                          const Tensor& db) override {
    inner_->layernorm_backward(dout, x, w, mean, rstd, dx, dw, db);
  }
  void gelu_forward(const Tensor& x, const Tensor& out) override { inner_->gelu_forward(x, out); }
  void gelu_backward(const Tensor& x, const Tensor& dout, const Tensor& dx) override {
    inner_->gelu_backward(x, dout, dx);
  }
  void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                         const Tensor& probs) override {
    inner_->attention_forward(qkv, heads, out, probs);
  }
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    inner_->attention_backward(dout, qkv, probs, heads, dqkv);
  }
  void embedding_forward(const Tensor& tokens, const Tensor& wte, std::int64_t vocab_begin,
                         const Tensor& wpe, const Tensor& out) override {
    inner_->embedding_forward(tokens, wte, vocab_begin, wpe, out);
  }
  void embedding_backward(const Tensor& tokens, const Tensor& dout, std::int64_t vocab_begin,
                          const Tensor& dwte, const Tensor& dwpe) override {
    inner_->embedding_backward(tokens, dout, vocab_begin, dwte, dwpe);
  }
  void xent_row_max(const Tensor& logits, std::int64_t vocab_begin, std::int64_t vocab_size,
                    const Tensor& max) override {
    inner_->xent_row_max(logits, vocab_begin, vocab_size, max);
  }
  void xent_row_stats(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                      std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp,
                      const Tensor& target_logit) override {
    inner_->xent_row_stats(logits, targets, vocab_begin, vocab_size, max, sumexp, target_logit);
  }
  double xent_loss_sum(const Tensor& max, const Tensor& sumexp,
                       const Tensor& target_logit) override {
    return inner_->xent_loss_sum(max, sumexp, target_logit);
  }
  void xent_backward(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                     std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp, float scale,
                     const Tensor& dlogits) override {
    inner_->xent_backward(logits, targets, vocab_begin, vocab_size, max, sumexp, scale, dlogits);
  }
  void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
             const AdamWStep& step) override {
    inner_->adamw(param, grad, m, v, step);
  }
  void layernorm_shard_mean(const Tensor& x, std::int64_t channels, const Tensor& mean) override {
    inner_->layernorm_shard_mean(x, channels, mean);
  }
  void layernorm_shard_var(const Tensor& x, const Tensor& mean, std::int64_t channels,
                           const Tensor& var) override {
    inner_->layernorm_shard_var(x, mean, channels, var);
  }
  void layernorm_shard_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                               const Tensor& mean, const Tensor& var, const Tensor& out,
                               const Tensor& rstd) override {
    inner_->layernorm_shard_forward(x, w, b, mean, var, out, rstd);
  }
  void layernorm_shard_backward_sums(const Tensor& dout, const Tensor& x, const Tensor& w,
                                     const Tensor& mean, const Tensor& rstd, std::int64_t channels,
                                     const Tensor& dsums) override {
    inner_->layernorm_shard_backward_sums(dout, x, w, mean, rstd, channels, dsums);
  }
  void layernorm_shard_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                const Tensor& mean, const Tensor& rstd, const Tensor& dsums,
                                const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    inner_->layernorm_shard_backward(dout, x, w, mean, rstd, dsums, dx, dw, db);
  }
  void attention_block_forward(const Tensor& q, const Tensor& kv, const TokenPositions& q_at,
                               const TokenPositions& k_at, int heads, const Tensor& out,
                               const Tensor& lse, bool merge) override {
    inner_->attention_block_forward(q, kv, q_at, k_at, heads, out, lse, merge);
  }
  void attention_block_backward(const Tensor& dout, const Tensor& q, const Tensor& kv,
                                const TokenPositions& q_at, const TokenPositions& k_at, int heads,
                                const Tensor& out, const Tensor& lse, const Tensor& dq,
                                const Tensor& dkv) override {
    inner_->attention_block_backward(dout, q, kv, q_at, k_at, heads, out, lse, dq, dkv);
  }
  void copy_columns(const Tensor& src, std::int64_t src_col, const Tensor& dst,
                    std::int64_t dst_col, std::int64_t width) override {
    inner_->copy_columns(src, src_col, dst, dst_col, width);
  }
  void rmsnorm_forward(const Tensor& x, const Tensor& w, float eps, const Tensor& out,
                       const Tensor& rstd) override {
    inner_->rmsnorm_forward(x, w, eps, out, rstd);
  }
  void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& rstd,
                        const Tensor& dx, const Tensor& dw) override {
    inner_->rmsnorm_backward(dout, x, w, rstd, dx, dw);
  }
  void swiglu_forward(const Tensor& gate_up, const Tensor& out) override {
    inner_->swiglu_forward(gate_up, out);
  }
  void swiglu_backward(const Tensor& gate_up, const Tensor& dout, const Tensor& dgate_up) override {
    inner_->swiglu_backward(gate_up, dout, dgate_up);
  }
  void rope(const Tensor& x, std::int64_t col, std::int64_t heads, std::int64_t head_dim,
            const TokenPositions& at, double theta, bool inverse) override {
    inner_->rope(x, col, heads, head_dim, at, theta, inverse);
  }

 protected:
  Kernels& inner() { return *inner_; }

 private:
  std::shared_ptr<Kernels> inner_;
};

}  // namespace trellis::gpu_test
