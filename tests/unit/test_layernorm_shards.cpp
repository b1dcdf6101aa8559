// LayerNorm over channels split into shards (the steps 2D tensor parallelism all-reduces between)
// gives the LayerNorm of whole rows: with one shard exactly, with several up to float rounding of
// the sums. The sums over shards are added here as the all-reduce would add them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

using namespace trellis;

namespace {

struct Rows {
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  std::shared_ptr<Kernels> k = make_cpu_kernels(2);
  int N, C;
  Tensor x, w, b, dout;

  Rows(int n, int c) : N(n), C(c) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.3f, 1.5f);
    x = random({N, C}, rng, normal);
    w = random({C}, rng, normal);
    b = random({C}, rng, normal);
    dout = random({N, C}, rng, normal);
  }
  Tensor empty(const Shape& s) const { return Tensor::empty(s, DType::f32, alloc); }
  Tensor zeros(const Shape& s) const {
    Tensor t = empty(s);
    k->fill(t, 0.0f);
    return t;
  }
  template <class Dist>
  Tensor random(const Shape& s, std::mt19937& rng, Dist& dist) const {
    Tensor t = empty(s);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    return t;
  }
  // Columns [begin, begin + width) of a [rows, C] tensor, as a contiguous copy.
  Tensor columns(const Tensor& t, int begin, int width) const {
    const std::int64_t rows = t.numel() / C;
    Tensor out = empty({rows, width});
    for (std::int64_t r = 0; r < rows; ++r)
      for (int c = 0; c < width; ++c)
        out.data<float>()[r * width + c] = t.data<float>()[r * C + begin + c];
    return out;
  }
};

double max_diff(const Tensor& a, const float* b, std::int64_t n) {
  double d = 0;
  for (std::int64_t i = 0; i < n; ++i) d = std::max(d, std::abs(double(a.data<float>()[i]) - b[i]));
  return d;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i)
    m = std::max(m, std::abs(double(t.data<float>()[i])));
  return m;
}

// Runs the shard steps over `shards` equal column shards and compares with the whole-row kernels.
void check_shards(int shards, double tolerance) {
  Rows m(37, 48);
  const int N = m.N, C = m.C, Cs = C / shards;
  // Whole rows.
  Tensor out = m.empty({N, C}), mean = m.empty({N}), rstd = m.empty({N});
  m.k->layernorm_forward(m.x, m.w, m.b, out, mean, rstd);
  Tensor dx = m.empty({N, C}), dw = m.zeros({C}), db = m.zeros({C});
  m.k->layernorm_backward(m.dout, m.x, m.w, mean, rstd, dx, dw, db);

  std::vector<Tensor> xs, ws, bs, douts;
  for (int s = 0; s < shards; ++s) {
    xs.push_back(m.columns(m.x, s * Cs, Cs));
    ws.push_back(m.columns(m.w.view({1, C}), s * Cs, Cs).view({Cs}));
    bs.push_back(m.columns(m.b.view({1, C}), s * Cs, Cs).view({Cs}));
    douts.push_back(m.columns(m.dout, s * Cs, Cs));
  }
  // The row statistics: each step's shard values, summed over the shards.
  auto summed = [&](const Shape& shape, auto&& step) {
    Tensor total = m.zeros(shape), part = m.empty(shape);
    for (int s = 0; s < shards; ++s) {
      step(s, part);
      m.k->accumulate(total, part);
    }
    return total;
  };
  Tensor s_mean =
      summed({N}, [&](int s, const Tensor& p) { m.k->layernorm_shard_mean(xs[s], C, p); });
  Tensor s_var =
      summed({N}, [&](int s, const Tensor& p) { m.k->layernorm_shard_var(xs[s], s_mean, C, p); });
  Tensor s_rstd = m.empty({N});
  std::vector<Tensor> outs;
  for (int s = 0; s < shards; ++s) {
    outs.push_back(m.empty({N, Cs}));
    // rstd written over var on the last shard: in place is allowed.
    m.k->layernorm_shard_forward(xs[s], ws[s], bs[s], s_mean, s_var, outs[s],
                                 s + 1 == shards ? s_var : s_rstd);
  }
  Tensor dsums = summed({2, N}, [&](int s, const Tensor& p) {
    m.k->layernorm_shard_backward_sums(douts[s], xs[s], ws[s], s_mean, s_var, C, p);
  });

  CHECK(max_diff(s_mean, mean.data<float>(), N) <= tolerance * max_abs(mean));
  CHECK(max_diff(s_var, rstd.data<float>(), N) <= tolerance * max_abs(rstd));
  for (int s = 0; s < shards; ++s) {
    CAPTURE(s);
    Tensor want_out = m.columns(out, s * Cs, Cs), want_dx = m.columns(dx, s * Cs, Cs);
    Tensor s_dx = m.empty({N, Cs}), s_dw = m.zeros({Cs}), s_db = m.zeros({Cs});
    m.k->layernorm_shard_backward(douts[s], xs[s], ws[s], s_mean, s_var, dsums, s_dx, s_dw, s_db);
    CHECK(max_diff(outs[s], want_out.data<float>(), N * Cs) <= tolerance * max_abs(want_out));
    CHECK(max_diff(s_dx, want_dx.data<float>(), N * Cs) <= tolerance * max_abs(want_dx));
    CHECK(max_diff(s_dw, dw.data<float>() + s * Cs, Cs) <= tolerance * max_abs(dw));
    CHECK(max_diff(s_db, db.data<float>() + s * Cs, Cs) <= tolerance * max_abs(db));
  }
}

}  // namespace

TEST_CASE("LayerNorm in shard steps over one shard is the whole-row LayerNorm, bit for bit") {
  check_shards(1, 0.0);
}

TEST_CASE("LayerNorm in shard steps over 2, 3 and 4 shards matches the whole-row LayerNorm") {
  for (int shards : {2, 3, 4}) {
    CAPTURE(shards);
    check_shards(shards, 2e-6);
  }
}
