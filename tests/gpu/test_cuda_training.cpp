// A few training steps of a one-block GPT-2 (tied head, pre-LayerNorm, GELU MLP) written with the
// kernels, run on the CPU and on the GPU from the same initial parameters and batch: the losses,
// gradient norms and updated parameters agree (fp32), or stay within bf16 rounding (mixed
// precision: bf16 products, fp32 master weights and gradients).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gpu_pair.h"

using namespace trellis;
using trellis::gpu_test::Devices;
using trellis::gpu_test::on_both;
using trellis::gpu_test::Pair;

namespace {

constexpr int V = 64, C = 32, NH = 4, T = 16, B = 2, N = B * T;

struct Param {
  Pair value, grad, m, v;
};

struct TinyGpt {
  Devices& d;
  std::vector<Param> params;
  Param &wte, &wpe, &ln1w, &ln1b, &qkvw, &qkvb, &projw, &projb, &ln2w, &ln2b, &fcw, &fcb, &fcpw,
      &fcpb, &lnfw, &lnfb;
  // activations and their gradients, both devices
  Pair x0, h1, mean1, rstd1, qkv, probs, att, a, x1, h2, mean2, rstd2, f, g, mm, x2, hf, meanf,
      rstdf, logits, max, sumexp, tlogit;
  Pair dhf, dx2, dg, df, dh2, dtmp, dx1, datt, dqkv, dh1, dx0;

  static Param make(Devices& d, const Shape& shape, std::uint64_t seed, float scale, float shift) {
    Param p{d.random(shape, seed, scale), d.zeros(shape), d.zeros(shape), d.zeros(shape)};
    if (shift != 0.0f) {
      Pair ones = d.zeros(shape);
      on_both(d, [&](Kernels& k, auto at) {
        k.fill(at(ones), shift);
        k.accumulate(at(p.value), at(ones));
      });
    }
    return p;
  }

  explicit TinyGpt(Devices& devices)
      : d(devices),
        params([&] {
          std::vector<Param> ps;
          const Shape shapes[] = {{V, C},     {T, C}, {C}, {C}, {3 * C, C}, {3 * C},
                                  {C, C},     {C},    {C}, {C}, {4 * C, C}, {4 * C},
                                  {C, 4 * C}, {C},    {C}, {C}};
          const bool norm_weight[] = {false, false, true,  false, false, false, false, false,
                                      true,  false, false, false, false, false, true,  false};
          for (int i = 0; i < 16; ++i) {
            ps.push_back(make(devices, shapes[i], 100 + i, norm_weight[i] ? 0.1f : 0.2f,
                              norm_weight[i] ? 1.0f : 0.0f));
          }
          return ps;
        }()),
        wte(params[0]),
        wpe(params[1]),
        ln1w(params[2]),
        ln1b(params[3]),
        qkvw(params[4]),
        qkvb(params[5]),
        projw(params[6]),
        projb(params[7]),
        ln2w(params[8]),
        ln2b(params[9]),
        fcw(params[10]),
        fcb(params[11]),
        fcpw(params[12]),
        fcpb(params[13]),
        lnfw(params[14]),
        lnfb(params[15]),
        x0(d.zeros({N, C})),
        h1(d.zeros({N, C})),
        mean1(d.zeros({N})),
        rstd1(d.zeros({N})),
        qkv(d.zeros({B, T, 3 * C})),
        probs(d.zeros({B, NH, T, T})),
        att(d.zeros({N, C})),
        a(d.zeros({N, C})),
        x1(d.zeros({N, C})),
        h2(d.zeros({N, C})),
        mean2(d.zeros({N})),
        rstd2(d.zeros({N})),
        f(d.zeros({N, 4 * C})),
        g(d.zeros({N, 4 * C})),
        mm(d.zeros({N, C})),
        x2(d.zeros({N, C})),
        hf(d.zeros({N, C})),
        meanf(d.zeros({N})),
        rstdf(d.zeros({N})),
        logits(d.zeros({N, V})),
        max(d.zeros({N})),
        sumexp(d.zeros({N})),
        tlogit(d.zeros({N})),
        dhf(d.zeros({N, C})),
        dx2(d.zeros({N, C})),
        dg(d.zeros({N, 4 * C})),
        df(d.zeros({N, 4 * C})),
        dh2(d.zeros({N, C})),
        dtmp(d.zeros({N, C})),
        dx1(d.zeros({N, C})),
        datt(d.zeros({N, C})),
        dqkv(d.zeros({B, T, 3 * C})),
        dh1(d.zeros({N, C})),
        dx0(d.zeros({N, C})) {}

  // One step on the device `at` picks; returns {loss, grad norm}.
  template <class At>
  std::pair<double, double> step(Kernels& k, At at, const Pair& tokens, const Pair& targets,
                                 int number) {
    for (Param& p : params) k.fill(at(p.grad), 0.0f);
    const Tensor qkv_rows = at(qkv).view({N, 3 * C}), dqkv_rows = at(dqkv).view({N, 3 * C});
    k.embedding_forward(at(tokens), at(wte.value), 0, at(wpe.value), at(x0).view({B, T, C}));
    k.layernorm_forward(at(x0), at(ln1w.value), at(ln1b.value), at(h1), at(mean1), at(rstd1));
    k.linear_forward(at(h1), at(qkvw.value), at(qkvb.value), qkv_rows);
    k.attention_forward(at(qkv), NH, at(att).view({B, T, C}), at(probs));
    k.linear_forward(at(att), at(projw.value), at(projb.value), at(a));
    k.add(at(x0), at(a), at(x1));
    k.layernorm_forward(at(x1), at(ln2w.value), at(ln2b.value), at(h2), at(mean2), at(rstd2));
    k.linear_forward(at(h2), at(fcw.value), at(fcb.value), at(f));
    k.gelu_forward(at(f), at(g));
    k.linear_forward(at(g), at(fcpw.value), at(fcpb.value), at(mm));
    k.add(at(x1), at(mm), at(x2));
    k.layernorm_forward(at(x2), at(lnfw.value), at(lnfb.value), at(hf), at(meanf), at(rstdf));
    k.linear_forward(at(hf), at(wte.value), Tensor(), at(logits));
    k.xent_row_max(at(logits), 0, V, at(max));
    k.xent_row_stats(at(logits), at(targets), 0, V, at(max), at(sumexp), at(tlogit));
    const double loss = k.xent_loss_sum(at(max), at(sumexp), at(tlogit)) / N;

    k.xent_backward(at(logits), at(targets), 0, V, at(max), at(sumexp), 1.0f / N, at(logits));
    k.linear_backward(at(logits), at(hf), at(wte.value), at(dhf), at(wte.grad), Tensor());
    k.layernorm_backward(at(dhf), at(x2), at(lnfw.value), at(meanf), at(rstdf), at(dx2),
                         at(lnfw.grad), at(lnfb.grad));
    k.linear_backward(at(dx2), at(g), at(fcpw.value), at(dg), at(fcpw.grad), at(fcpb.grad));
    k.gelu_backward(at(f), at(dg), at(df));
    k.linear_backward(at(df), at(h2), at(fcw.value), at(dh2), at(fcw.grad), at(fcb.grad));
    k.layernorm_backward(at(dh2), at(x1), at(ln2w.value), at(mean2), at(rstd2), at(dtmp),
                         at(ln2w.grad), at(ln2b.grad));
    k.add(at(dx2), at(dtmp), at(dx1));
    k.linear_backward(at(dx1), at(att), at(projw.value), at(datt), at(projw.grad), at(projb.grad));
    k.attention_backward(at(datt).view({B, T, C}), at(qkv), at(probs), NH, at(dqkv));
    k.linear_backward(dqkv_rows, at(h1), at(qkvw.value), at(dh1), at(qkvw.grad), at(qkvb.grad));
    k.layernorm_backward(at(dh1), at(x0), at(ln1w.value), at(mean1), at(rstd1), at(dtmp),
                         at(ln1w.grad), at(ln1b.grad));
    k.add(at(dx1), at(dtmp), at(dx0));
    k.embedding_backward(at(tokens), at(dx0).view({B, T, C}), 0, at(wte.grad), at(wpe.grad));

    double squares = 0.0;
    for (Param& p : params) squares += k.sum_squares(at(p.grad));
    // eps 1e-5, not 1e-8: the gradient of the key bias (qkvb[C, 2C)) is zero in exact arithmetic
    // (a softmax does not change when every score of a row moves by the same q.b), so both devices
    // compute rounding noise there (~1e-9), of either sign. AdamW turns a gradient g into a step of
    // lr * g / (|g| + eps): with eps 1e-8 that is a step of up to lr of an arbitrary sign, and the
    // two devices' parameters drift apart by ~1e-3, ten times the tolerance (seen on the CPU alone
    // between thread counts, which only reorder sums). With 1e-5, noise of 1e-9 moves a parameter
    // by 3e-7 a step, while gradients well above 1e-5 still take nearly full steps.
    for (Param& p : params) {
      k.adamw(at(p.value), at(p.grad), at(p.m), at(p.v), {3e-3f, 0.9f, 0.95f, 1e-5f, 0.1f, number});
    }
    return {loss, std::sqrt(squares)};
  }
};

// Trains both copies for `steps` and checks the figures agree within `tolerance`.
void train_and_compare(Devices& d, int steps, double tolerance) {
  TinyGpt model(d);
  for (int s = 1; s <= steps; ++s) {
    const Pair tokens = d.tokens({B, T}, 200 + s, V), targets = d.tokens({N}, 300 + s, V);
    std::pair<double, double> figures[2];
    int side = 0;
    on_both(d,
            [&](Kernels& k, auto at) { figures[side++] = model.step(k, at, tokens, targets, s); });
    CAPTURE(s);
    CHECK(figures[1].first == doctest::Approx(figures[0].first).epsilon(tolerance));
    CHECK(figures[1].second == doctest::Approx(figures[0].second).epsilon(tolerance * 10));
  }
  for (const Param& p : model.params) {
    const std::string wrong = d.compare(p.value, tolerance * 10);
    CHECK_MESSAGE(wrong.empty(), wrong);
  }
}

}  // namespace

TEST_CASE("three training steps agree on the CPU and the GPU (fp32)") {
  Devices d(CudaPrecision::f32);
  train_and_compare(d, 3, 1e-5);
}

TEST_CASE("three training steps in bf16 mixed precision stay within bf16 rounding") {
  Devices d(CudaPrecision::bf16);
  train_and_compare(d, 3, 1e-2);
}
