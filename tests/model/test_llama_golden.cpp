// One forward and backward of the tiny LLaMA against PyTorch (tests/golden/llama_reference.py,
// tiny_llama.golden): RMSNorm, SwiGLU, rotary positions, no biases, an untied head; with
// grouped-query attention ("gqa.": 4 heads sharing 2 of keys and values, rope_theta 500000,
// eps 1e-5) and multi-head ("mha.": rope_theta 10000, eps 1e-6). From the reference's initial
// weights: the loss, the logits and the gradient of every parameter, in the 1d and seq families
// at tensor 1. The batch is tiny_gpt2.golden's first (the same token file and windows).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "tiny_llama_model.h"

using namespace trellis;
using golden::GoldenFile;
using trellis::test::llama_golden;
using trellis::test::TinyLlama;
namespace numerics = trellis::test::numerics;

namespace {

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

void check_close(const std::string& what, const float* a, const std::vector<double>& b,
                 double bound) {
  numerics::Comparison c = numerics::compare(std::span<const float>(a, b.size()), b, bound);
  numerics::report("test_llama_golden", what, c);
  INFO(what << ": " << c.describe());
  CHECK(c.ok());
}

// The loss within llama_loss_bound; every parameter gradient within llama_gradient_bound of its
// tensor's largest PyTorch gradient; the padding rows of the token table and the head get
// exactly nothing.
void check_loss_and_gradients(const std::string& what, TinyLlama& m, double mean_loss) {
  const GoldenFile& g = llama_golden();
  const std::string& p = m.prefix;
  const double want = g.scalar(p + "loss");
  numerics::Comparison loss =
      numerics::compare_scalar(mean_loss, want, numerics::llama_loss_bound(m.shape(), want));
  numerics::report("test_llama_golden", what + " loss", loss);
  INFO(what << " loss: " << loss.describe());
  CHECK(loss.ok());
  for (Parameter* param : m.chunk->parameters()) {
    const std::vector<double> want_grad = g.tensor(p + "grad." + param->name).f64();
    REQUIRE(static_cast<std::int64_t>(want_grad.size()) == param->grad.numel());
    check_close(what + " grad." + param->name, param->grad.data<float>(), want_grad,
                numerics::llama_gradient_bound(m.shape(), max_abs(want_grad)));
  }
  const std::int64_t C = m.dims.hidden;
  for (const char* table : {"wte", "lm_head.weight"}) {
    const float* grad = m.parameter(table).grad.data<float>();
    std::int64_t nonzero = 0;
    for (std::int64_t i = m.dims.vocab_size * C; i < m.dims.padded_vocab * C; ++i)
      nonzero += grad[i] != 0.0f;
    INFO(what << ": " << table << " padding rows");
    CHECK(nonzero == 0);
  }
}

}  // namespace

TEST_CASE("the tiny LLaMA's forward and backward match PyTorch, GQA and MHA, 1d and seq") {
  for (const char* mode : {"1d", "seq"}) {
    for (const char* prefix : {"gqa.", "mha."}) {
      CAPTURE(mode);
      CAPTURE(prefix);
      TinyLlama m(prefix, mode);
      const double loss = m.forward_backward();
      check_loss_and_gradients(std::string(mode) + " " + prefix, m, loss);
    }
  }
}

TEST_CASE("the tiny LLaMA's logits over the real vocabulary match PyTorch") {
  for (const char* prefix : {"gqa.", "mha."}) {
    CAPTURE(prefix);
    TinyLlama m(prefix, "1d");
    Microbatch mb = m.batch();
    mb.training = false;
    // Every layer but the head (the final RMSNorm is a layer of its own before it), then the
    // head's product by hand.
    const auto& layers = m.chunk->layers();
    const std::vector<Parameter*> head = layers.back()->parameters();
    REQUIRE(head.size() == 1);
    REQUIRE(head[0]->name == "lm_head.weight");
    Tensor h = mb.tokens;
    for (std::size_t i = 0; i + 1 < layers.size(); ++i) h = layers[i]->forward(mb, h);
    const std::int64_t N = m.B * m.T, V = m.dims.vocab_size, Vp = m.dims.padded_vocab;
    Tensor logits = Tensor::empty({N, Vp}, DType::f32, m.alloc);
    m.kernels->matmul(h.view({N, m.dims.hidden}), false, head[0]->value, true, logits);
    std::vector<float> real;
    for (std::int64_t r = 0; r < N; ++r)
      for (std::int64_t v = 0; v < V; ++v) real.push_back(logits.data<float>()[r * Vp + v]);
    // Forward up to the head's product, whose last reduction is over the C hidden channels.
    const std::vector<double> want = llama_golden().tensor(std::string(prefix) + "logits").f64();
    check_close(std::string(prefix) + "logits", real.data(), want,
                numerics::composite_bound(numerics::llama_logits_path(m.shape()),
                                          static_cast<double>(m.dims.hidden), max_abs(want)));
  }
}

TEST_CASE("the tiny LLaMA's padding rows of the token table and the head never change the loss") {
  TinyLlama m("gqa.", "1d");
  const std::int64_t C = m.dims.hidden;
  for (const char* table : {"wte", "lm_head.weight"}) {
    float* w = m.parameter(table).value.data<float>();
    for (std::int64_t r = m.dims.vocab_size; r < m.dims.padded_vocab; ++r)
      for (std::int64_t c = 0; c < C; ++c) w[r * C + c] = 3.0f + 0.1f * static_cast<float>(c);
  }
  const double loss = m.forward_backward();
  check_loss_and_gradients("scrambled padding", m, loss);
}
