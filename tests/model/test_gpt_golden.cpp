// One forward and backward of the tiny GPT-2 against PyTorch: the logits, the loss and the
// gradient of every parameter, starting from the same llm.c checkpoint. Odd sizes on purpose:
// vocabulary 97 padded to 128, sequences of 12 with 16 positions in the table.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "error_bound.h"
#include "golden_file.h"
#include "tiny_gpt2_model.h"

using namespace trellis;
using golden::GoldenFile;
using trellis::test::TinyModel;
namespace numerics = trellis::test::numerics;

namespace {

// A composite result against PyTorch: every element within `bound` (error_bound.h).
void check_close(const std::string& what, const float* a, const std::vector<double>& b,
                 double bound) {
  numerics::Comparison c = numerics::compare(std::span<const float>(a, b.size()), b, bound);
  numerics::report("test_gpt_golden", what, c);
  INFO(what << ": " << c.describe());
  CHECK(c.ok());
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// The loss within gpt_loss_bound; every parameter gradient within gpt_gradient_bound of its
// tensor's largest PyTorch gradient (the gradient path: forward, backward, the sum over tokens).
void check_loss_and_gradients(const std::string& what, TinyModel& m, double mean_loss) {
  const double want = m.g.scalar("loss");
  numerics::Comparison loss =
      numerics::compare_scalar(mean_loss, want, numerics::gpt_loss_bound(m.shape(), want));
  numerics::report("test_gpt_golden", what + " loss", loss);
  INFO(what << " loss: " << loss.describe());
  CHECK(loss.ok());
  for (Parameter* p : m.chunk->parameters()) {
    auto grad = m.g.tensor("grad." + p->name);
    REQUIRE(grad.numel() == p->grad.numel());
    const std::vector<double> want_grad = grad.f64();
    check_close(what + " grad." + p->name, p->grad.data<float>(), want_grad,
                numerics::gpt_gradient_bound(m.shape(), max_abs(want_grad)));
  }
}

}  // namespace

TEST_CASE("forward and backward of the tiny GPT-2 match PyTorch") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    TinyModel m(threads);
    Microbatch mb = m.batch();
    Tensor loss = m.chunk->forward(mb, mb.tokens);
    double mean_loss = loss.data<float>()[0] / static_cast<double>(m.B * m.T);
    m.chunk->backward(mb, Tensor());
    check_loss_and_gradients("1d, " + std::to_string(threads) + " threads", m, mean_loss);
  }
}

// Every family at tensor size 1 is the plain model: seq with one shard of the whole sequence,
// 2d on a 1 x 1 grid (its LayerNorms through the shard kernels, its linears through SUMMA).
TEST_CASE("the seq and 2d families at tensor 1 match PyTorch too") {
  for (const char* mode : {"seq", "2d"}) {
    CAPTURE(mode);
    TinyModel m(2, mode);
    Microbatch mb = m.batch();
    Tensor loss = m.chunk->forward(mb, mb.tokens);
    double mean_loss = loss.data<float>()[0] / static_cast<double>(m.B * m.T);
    m.chunk->backward(mb, Tensor());
    check_loss_and_gradients(mode, m, mean_loss);
  }
}

TEST_CASE("the logits over the real vocabulary match PyTorch") {
  TinyModel m(2);
  Microbatch mb = m.batch();
  mb.training = false;
  // Run every layer but the head, then the head's product by hand.
  Tensor h = mb.tokens;
  const auto& layers = m.chunk->layers();
  for (std::size_t i = 0; i + 1 < layers.size(); ++i) h = layers[i]->forward(mb, h);
  Parameter* wte = nullptr;
  for (Parameter* p : m.chunk->parameters())
    if (p->name == "wte") wte = p;
  REQUIRE(wte != nullptr);
  const std::int64_t N = m.B * m.T, V = m.dims.vocab_size, Vp = m.dims.padded_vocab;
  Tensor logits = Tensor::empty({N, Vp}, DType::f32, m.alloc);
  m.kernels->matmul(h.view({N, m.dims.hidden}), false, wte->value, true, logits);
  std::vector<float> real;
  for (std::int64_t r = 0; r < N; ++r)
    for (std::int64_t v = 0; v < V; ++v) real.push_back(logits.data<float>()[r * Vp + v]);
  // Forward up to the head's product, whose last reduction is over the C hidden channels.
  const std::vector<double> want = m.g.tensor("logits").f64();
  check_close("logits", real.data(), want,
              numerics::composite_bound(numerics::gpt_logits_path(m.shape()),
                                        static_cast<double>(m.dims.hidden), max_abs(want)));
}

TEST_CASE("padded vocabulary rows never change the loss and get no gradient from it") {
  TinyModel m(2);
  Parameter* wte = nullptr;
  for (Parameter* p : m.chunk->parameters())
    if (p->name == "wte") wte = p;
  // Scramble the padding rows: the loss must not move.
  const std::int64_t C = m.dims.hidden;
  for (std::int64_t r = m.dims.vocab_size; r < m.dims.padded_vocab; ++r)
    for (std::int64_t c = 0; c < C; ++c) wte->value.data<float>()[r * C + c] = 3.0f + 0.1f * c;
  Microbatch mb = m.batch();
  double loss = m.chunk->forward(mb, mb.tokens).data<float>()[0] / static_cast<double>(m.B * m.T);
  numerics::Comparison c = numerics::compare_scalar(
      loss, m.g.scalar("loss"), numerics::gpt_loss_bound(m.shape(), m.g.scalar("loss")));
  INFO("loss with scrambled padding: " << c.describe());
  CHECK(c.ok());
  m.chunk->backward(mb, Tensor());
  for (std::int64_t r = m.dims.vocab_size; r < m.dims.padded_vocab; ++r)
    for (std::int64_t c = 0; c < C; ++c) CHECK(wte->grad.data<float>()[r * C + c] == 0.0f);
}

TEST_CASE("split backward (input gradients, then weight gradients later) equals whole backward") {
  TinyModel whole(2), split(2);
  Microbatch a = whole.batch(), b = split.batch();
  whole.chunk->forward(a, a.tokens);
  whole.chunk->backward(a, Tensor());
  split.chunk->forward(b, b.tokens);
  split.chunk->backward_input(b, Tensor());
  split.chunk->backward_weight(b);
  auto pw = whole.chunk->parameters(), ps = split.chunk->parameters();
  for (std::size_t i = 0; i < pw.size(); ++i) {
    for (std::int64_t j = 0; j < pw[i]->grad.numel(); ++j) {
      REQUIRE(pw[i]->grad.data<float>()[j] == ps[i]->grad.data<float>()[j]);
    }
  }
}

TEST_CASE("several microbatches in flight keep their own activations") {
  // Two forwards before either backward (as a pipeline does) give the gradients of two
  // sequential forward+backward passes.
  TinyModel seq(2), interleaved(2);
  Microbatch m0 = seq.batch(), m1 = seq.batch();
  m1.id = 1;
  seq.chunk->forward(m0, m0.tokens);
  seq.chunk->backward(m0, Tensor());
  seq.chunk->forward(m1, m1.tokens);
  seq.chunk->backward(m1, Tensor());
  Microbatch n0 = interleaved.batch(), n1 = interleaved.batch();
  n1.id = 1;
  interleaved.chunk->forward(n0, n0.tokens);
  interleaved.chunk->forward(n1, n1.tokens);
  interleaved.chunk->backward(n1, Tensor());
  interleaved.chunk->backward(n0, Tensor());
  // Two float32 computations of the same two-microbatch gradients, in another order: each is
  // within the gradient bound (72 tokens) of the exact sum, so they are within twice that.
  auto a = seq.chunk->parameters(), b = interleaved.chunk->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::int64_t n = a[i]->grad.numel();
    std::span<const float> ga(a[i]->grad.data<float>(), n), gb(b[i]->grad.data<float>(), n);
    double scale = 0.0;
    for (float x : ga) scale = std::max(scale, std::abs(static_cast<double>(x)));
    numerics::Comparison c =
        numerics::compare(gb, ga, 2.0 * numerics::gpt_gradient_bound(seq.shape(2), scale));
    numerics::report("test_gpt_golden", "in flight grad." + a[i]->name, c);
    INFO(a[i]->name << ": " << c.describe());
    CHECK(c.ok());
  }
}

TEST_CASE("once warm, a training step takes no new memory from the system") {
  TinyModel m(2);
  auto step = [&] {
    Microbatch mb = m.batch();
    m.chunk->forward(mb, mb.tokens);
    m.chunk->backward(mb, Tensor());
  };
  step();
  const std::uint64_t after_first = m.alloc->device_allocations();
  const std::size_t live_after_first = m.alloc->current_bytes();
  for (int i = 0; i < 3; ++i) step();
  CHECK(m.alloc->device_allocations() == after_first);
  CHECK(m.alloc->current_bytes() == live_after_first);  // nothing leaks from step to step
}
