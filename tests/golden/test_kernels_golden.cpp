// The CPU kernels against PyTorch: every kernel of kernels.h is run on the inputs stored in
// data/kernels.golden and its outputs and gradients compared with PyTorch's (computed in float64
// from the same float32 inputs, see make_golden.py). Also: "+=" gradients accumulate, outputs are
// overwritten, the vocabulary-sharded embedding and cross-entropy agree with the unsharded
// results, and matmul with transposes and strided views agrees with a plain triple loop.
//
// Tolerance: every comparison is held to an error bound computed element by element from the
// kernel's inputs (the bounds functions below, built on tests/numerics/error_bound.h): gamma(K)
// times the magnitudes of the K terms each output sums, and for the composite kernels (LayerNorm,
// RMSNorm, SwiGLU, rotary positions, attention, cross-entropy, GELU, AdamW) the first-order
// propagation of each step's rounding through the steps after it. The reference is float64 from the
// same float32 inputs, so the bound is on Trellis's float32 error alone, for any summation order
// (any OpenBLAS kernel, any thread count). TRELLIS_GOLDEN_VERBOSE=1 prints each comparison's worst
// error / bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "error_bound.h"
#include "golden_file.h"
#include "kernel_bounds.h"
#include "kernels/cpu/cpu_kernels.h"
#include "trellis/error.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

using trellis::DType;
using trellis::Shape;
using trellis::Tensor;
using trellis::golden::GoldenFile;

namespace bounds = trellis::test::numerics::kernel_bounds;
namespace numerics = trellis::test::numerics;

namespace {

const GoldenFile& kernels_golden() {
  static const GoldenFile file = GoldenFile::load(trellis::golden::golden_path("kernels.golden"));
  return file;
}

std::shared_ptr<trellis::Allocator> allocator() {
  static auto alloc = trellis::make_cpu_allocator();
  return alloc;
}

bool verbose() {
  static const bool on = std::getenv("TRELLIS_GOLDEN_VERBOSE") != nullptr;
  return on;
}

Tensor input(const std::string& name) {
  return kernels_golden().tensor(name).to_tensor(allocator());
}

std::vector<double> expected(const std::string& name) {
  return kernels_golden().tensor(name).f64();
}

// A kernel input as exact values (float32 stored, read as double) for the bounds.
std::vector<double> exact(const std::string& name) {
  return kernels_golden().tensor(name).f64();
}

std::vector<std::int64_t> ids(const std::string& name) {
  std::vector<std::int32_t> v = kernels_golden().tensor(name).i32();
  return std::vector<std::int64_t>(v.begin(), v.end());
}

// A new f32 tensor with every element `value` (NaN for outputs that must be overwritten).
Tensor filled(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape, DType::f32, allocator());
  std::fill_n(t.data<float>(), t.numel(), value);
  return t;
}

Tensor nan_filled(const Shape& shape) {
  return filled(shape, std::numeric_limits<float>::quiet_NaN());
}

// A fixed, non-trivial pattern to pre-fill gradients that are accumulated into.
std::vector<double> pattern(std::int64_t n) {
  std::vector<double> p(n);
  for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(0.5 * std::sin(0.7 * i + 0.3));
  return p;
}

Tensor from(const Shape& shape, const std::vector<double>& values) {
  Tensor t = Tensor::empty(shape, DType::f32, allocator());
  for (std::size_t i = 0; i < values.size(); ++i)
    t.data<float>()[i] = static_cast<float>(values[i]);
  return t;
}

std::vector<double> plus(std::vector<double> a, const std::vector<double>& b, double times = 1.0) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += times * b[i];
  return a;
}

// |actual - want| <= bound, element by element (bounds from kernel_bounds.h); NaN fails.
void check_close(const std::string& what, const float* actual, const std::vector<double>& want,
                 const std::vector<double>& bound) {
  numerics::Comparison c =
      numerics::compare(std::span<const float>(actual, want.size()), want, bound);
  numerics::report("test_kernels_golden", what, c);
  if (verbose()) std::printf("  %-44s error / bound %.3e\n", what.c_str(), c.worst_ratio);
  INFO(what << ": " << c.describe());
  CHECK(c.ok());
}

void check_close(const std::string& what, const Tensor& actual, const std::vector<double>& want,
                 const std::vector<double>& bound) {
  REQUIRE(actual.numel() == static_cast<std::int64_t>(want.size()));
  check_close(what, actual.data<float>(), want, bound);
}

std::vector<double> values(const Tensor& t) {
  return std::vector<double>(t.data<float>(), t.data<float>() + t.numel());
}

// Columns [begin, begin + width) of a row-major [rows, cols] tensor, as a new contiguous tensor.
Tensor columns(const Tensor& t, std::int64_t begin, std::int64_t width) {
  std::int64_t rows = t.size(0), cols = t.size(1);
  Tensor out = Tensor::empty({rows, width}, DType::f32, allocator());
  for (std::int64_t r = 0; r < rows; ++r) {
    std::copy_n(t.data<float>() + r * cols + begin, width, out.data<float>() + r * width);
  }
  return out;
}

std::vector<double> columns(const std::vector<double>& v, std::int64_t cols, std::int64_t begin,
                            std::int64_t width) {
  std::vector<double> out;
  for (std::size_t r = 0; r < v.size() / cols; ++r) {
    out.insert(out.end(), v.begin() + r * cols + begin, v.begin() + r * cols + begin + width);
  }
  return out;
}

std::string label(const char* what, int threads) {
  return std::string(what) + " (" + std::to_string(threads) + " thread" +
         (threads == 1 ? "" : "s") + ")";
}

}  // namespace

TEST_CASE("the golden reader loads kernels.golden and reports bad files by name") {
  const GoldenFile& g = kernels_golden();
  CHECK(g.names().size() > 50);
  CHECK(g.tensor("linear.x").shape() == std::vector<std::int64_t>{37, 24});
  CHECK(g.tensor("linear.out").type() == trellis::golden::GoldenType::f64);
  CHECK(g.scalar("xent.vocab_size") == 97);
  CHECK_THROWS_WITH_AS(g.tensor("linear.nope"), doctest::Contains("kernels.golden"),
                       trellis::InputError);
  CHECK_THROWS_WITH_AS(g.scalar("linear.x"), doctest::Contains("not a scalar"),
                       trellis::InputError);
  CHECK_THROWS_AS(g.tensor("linear.x").i32(), trellis::Error);

  CHECK_THROWS_WITH_AS(GoldenFile::load("/nonexistent/x.golden"),
                       doctest::Contains("/nonexistent/x.golden"), trellis::InputError);
  // A file cut short names the file and says so.
  std::string whole_path = trellis::golden::golden_path("kernels.golden");
  std::ifstream whole(whole_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(whole)), std::istreambuf_iterator<char>());
  std::string cut = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                    "/trellis_truncated_test.golden";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), 1000);
  CHECK_THROWS_WITH_AS(GoldenFile::load(cut), doctest::Contains("truncated"), trellis::InputError);
  std::ofstream(cut, std::ios::binary).write("NOTGOLDxxxxxxxxxxxxx", 20);
  CHECK_THROWS_WITH_AS(GoldenFile::load(cut), doctest::Contains("not a golden file"),
                       trellis::InputError);
  std::remove(cut.c_str());
}

TEST_CASE("linear forward and backward match PyTorch; dw and db accumulate") {
  const std::vector<double> xs = exact("linear.x"), ws = exact("linear.w"), bs = exact("linear.b");
  const std::vector<double> douts = exact("linear.dout");
  for (int threads : {2, 1}) {
    CAPTURE(threads);
    auto k = trellis::make_cpu_kernels(threads);
    Tensor x = input("linear.x"), w = input("linear.w"), b = input("linear.b");
    Tensor dout = input("linear.dout");
    const std::int64_t n = x.size(0), c = x.size(1), oc = w.size(0);

    Tensor out = nan_filled({n, oc});
    k->linear_forward(x, w, b, out);
    check_close(label("linear.out", threads), out, expected("linear.out"),
                bounds::linear_out(xs, ws, &bs, n, c, oc));

    // Gradients land on top of what is there: pre-filled, then once more from the same dout.
    Tensor dx = nan_filled({n, c});
    Tensor dw = from({oc, c}, pattern(oc * c)), db = from({oc}, pattern(oc));
    k->linear_backward(dout, x, w, dx, dw, db);
    check_close(label("linear.dx", threads), dx, expected("linear.dx"),
                bounds::linear_dx(douts, ws, n, c, oc));
    check_close(label("linear.dw (+= pre-filled)", threads), dw,
                plus(pattern(oc * c), expected("linear.dw")),
                bounds::linear_dw(douts, xs, pattern(oc * c), 1, n, c, oc));
    check_close(label("linear.db (+= pre-filled)", threads), db,
                plus(pattern(oc), expected("linear.db")),
                bounds::linear_db(douts, pattern(oc), 1, n, oc));
    k->linear_backward(dout, x, w, Tensor(), dw, db);  // dx undefined: skipped
    check_close(label("linear.dw (twice)", threads), dw,
                plus(pattern(oc * c), expected("linear.dw"), 2.0),
                bounds::linear_dw(douts, xs, pattern(oc * c), 2, n, c, oc));
    check_close(label("linear.db (twice)", threads), db,
                plus(pattern(oc), expected("linear.db"), 2.0),
                bounds::linear_db(douts, pattern(oc), 2, n, oc));
  }
  // Without a bias the output is x @ w^T alone.
  auto k = trellis::make_cpu_kernels(2);
  Tensor x = input("linear.x"), w = input("linear.w");
  Tensor out = nan_filled({x.size(0), w.size(0)});
  k->linear_forward(x, w, Tensor(), out);
  std::vector<double> want = expected("linear.out");
  for (std::size_t i = 0; i < want.size(); ++i) want[i] -= bs[i % bs.size()];
  check_close("linear.out without bias", out, want,
              bounds::linear_out(xs, ws, nullptr, x.size(0), x.size(1), w.size(0)));
}

TEST_CASE("layernorm forward and backward match PyTorch; dw and db accumulate") {
  for (int threads : {2, 1}) {
    CAPTURE(threads);
    auto k = trellis::make_cpu_kernels(threads);
    Tensor x = input("layernorm.x"), w = input("layernorm.w"), b = input("layernorm.b");
    Tensor dout = input("layernorm.dout");
    const std::int64_t n = x.size(0), c = x.size(1);
    // Rows 0-3 have variance ~1e-5, where eps matters and rstd is ~200: the bounds are per row.
    auto once = bounds::layernorm(exact("layernorm.x"), exact("layernorm.w"), exact("layernorm.b"),
                                  exact("layernorm.dout"), pattern(c), pattern(c), 1, n, c, 1e-5);
    auto twice = bounds::layernorm(exact("layernorm.x"), exact("layernorm.w"), exact("layernorm.b"),
                                   exact("layernorm.dout"), pattern(c), pattern(c), 2, n, c, 1e-5);

    Tensor out = nan_filled({n, c}), mean = nan_filled({n}), rstd = nan_filled({n});
    k->layernorm_forward(x, w, b, out, mean, rstd);
    check_close(label("layernorm.out", threads), out, expected("layernorm.out"), once.out);
    check_close(label("layernorm.mean", threads), mean, expected("layernorm.mean"), once.mean);
    check_close(label("layernorm.rstd", threads), rstd, expected("layernorm.rstd"), once.rstd);

    Tensor dx = nan_filled({n, c});
    Tensor dw = from({c}, pattern(c)), db = from({c}, pattern(c));
    k->layernorm_backward(dout, x, w, mean, rstd, dx, dw, db);
    check_close(label("layernorm.dx", threads), dx, expected("layernorm.dx"), once.dx);
    check_close(label("layernorm.dw (+= pre-filled)", threads), dw,
                plus(pattern(c), expected("layernorm.dw")), once.dw);
    check_close(label("layernorm.db (+= pre-filled)", threads), db,
                plus(pattern(c), expected("layernorm.db")), once.db);
    k->layernorm_backward(dout, x, w, mean, rstd, dx, dw, db);
    check_close(label("layernorm.dx (second call)", threads), dx, expected("layernorm.dx"),
                once.dx);
    check_close(label("layernorm.dw (twice)", threads), dw,
                plus(pattern(c), expected("layernorm.dw"), 2.0), twice.dw);
    check_close(label("layernorm.db (twice)", threads), db,
                plus(pattern(c), expected("layernorm.db"), 2.0), twice.db);
  }
}

TEST_CASE("gelu (tanh) forward and backward match PyTorch") {
  auto k = trellis::make_cpu_kernels(2);
  Tensor x = input("gelu.x"), dout = input("gelu.dout");
  Tensor out = nan_filled(x.shape()), dx = nan_filled(x.shape());
  k->gelu_forward(x, out);
  check_close("gelu.out", out, expected("gelu.out"), bounds::gelu_out(exact("gelu.x")));
  k->gelu_backward(x, dout, dx);
  check_close("gelu.dx", dx, expected("gelu.dx"),
              bounds::gelu_dx(exact("gelu.x"), exact("gelu.dout")));
}

TEST_CASE("rmsnorm forward and backward match PyTorch at two eps; dw accumulates") {
  for (const std::string prefix : {"rmsnorm", "rmsnorm_small_eps"}) {
    CAPTURE(prefix);
    const auto name = [&](const char* what) { return prefix + "." + what; };
    const auto eps = static_cast<float>(kernels_golden().scalar(name("eps")));
    for (int threads : {2, 1}) {
      CAPTURE(threads);
      auto k = trellis::make_cpu_kernels(threads);
      Tensor x = input(name("x")), w = input(name("w")), dout = input(name("dout"));
      const std::int64_t n = x.size(0), c = x.size(1);
      // Rows 0-3 have a mean square ~1e-5, where eps matters: the bounds are per row.
      auto once = bounds::rmsnorm(exact(name("x")), exact(name("w")), exact(name("dout")),
                                  pattern(c), 1, n, c, eps);
      auto twice = bounds::rmsnorm(exact(name("x")), exact(name("w")), exact(name("dout")),
                                   pattern(c), 2, n, c, eps);

      Tensor out = nan_filled({n, c}), rstd = nan_filled({n});
      k->rmsnorm_forward(x, w, eps, out, rstd);
      check_close(label(name("out").c_str(), threads), out, expected(name("out")), once.out);
      check_close(label(name("rstd").c_str(), threads), rstd, expected(name("rstd")), once.rstd);

      Tensor dx = nan_filled({n, c}), dw = from({c}, pattern(c));
      k->rmsnorm_backward(dout, x, w, rstd, dx, dw);
      check_close(label(name("dx").c_str(), threads), dx, expected(name("dx")), once.dx);
      check_close(label(name("dw (+= pre-filled)").c_str(), threads), dw,
                  plus(pattern(c), expected(name("dw"))), once.dw);
      k->rmsnorm_backward(dout, x, w, rstd, dx, dw);
      check_close(label(name("dx (second call)").c_str(), threads), dx, expected(name("dx")),
                  once.dx);
      check_close(label(name("dw (twice)").c_str(), threads), dw,
                  plus(pattern(c), expected(name("dw")), 2.0), twice.dw);
    }
  }
}

TEST_CASE("swiglu forward and backward match PyTorch, into both tails of the sigmoid") {
  auto k = trellis::make_cpu_kernels(2);
  Tensor gate_up = input("swiglu.gate_up"), dout = input("swiglu.dout");
  const std::int64_t n = gate_up.size(0), f = gate_up.size(1) / 2;
  const auto bound = bounds::swiglu(exact("swiglu.gate_up"), exact("swiglu.dout"), n, f);
  Tensor out = nan_filled({n, f}), dgate_up = nan_filled({n, 2 * f});
  k->swiglu_forward(gate_up, out);
  check_close("swiglu.out", out, expected("swiglu.out"), bound.out);
  k->swiglu_backward(gate_up, dout, dgate_up);
  check_close("swiglu.dgate_up", dgate_up, expected("swiglu.dgate_up"), bound.dgate_up);
}

// A rope case of kernels.golden ("rope.a", "rope.b"): its positions and sizes.
struct RopeCase {
  std::string prefix;
  trellis::TokenPositions at;
  std::vector<std::int64_t> positions;  // of each token of a sequence
  std::int64_t col, heads, head_dim;
  double theta;

  explicit RopeCase(const std::string& name) : prefix(name) {
    const GoldenFile& g = kernels_golden();
    const std::vector<std::int64_t> starts = ids(name + ".starts"),
                                    lengths = ids(name + ".lengths");
    at.runs = static_cast<int>(starts.size());
    for (int r = 0; r < at.runs; ++r) {
      at.start[r] = starts[r], at.length[r] = lengths[r];
      for (std::int64_t t = 0; t < lengths[r]; ++t) positions.push_back(starts[r] + t);
    }
    col = static_cast<std::int64_t>(g.scalar(name + ".col"));
    heads = static_cast<std::int64_t>(g.scalar(name + ".heads"));
    head_dim = static_cast<std::int64_t>(g.scalar(name + ".head_dim"));
    theta = g.scalar(name + ".theta");
  }
  std::string name(const char* what) const { return prefix + "." + what; }
  // The bound on rope(in) against its exact value, for in[B, T, W].
  std::vector<double> bound(const Tensor& in, const std::vector<double>& in_values,
                            const std::vector<double>& exact_out) const {
    return bounds::rope(in_values, exact_out, in.size(0), in.size(2), col, heads, head_dim,
                        positions, theta);
  }
};

TEST_CASE("rope turns the heads by their positions as PyTorch does; the inverse is its backward") {
  auto k = trellis::make_cpu_kernels(2);
  for (const char* prefix : {"rope.a", "rope.b"}) {
    CAPTURE(prefix);
    const RopeCase rc(prefix);
    REQUIRE(rc.at.runs == 2);
    const std::vector<double> xs = exact(rc.name("x")), out_want = expected(rc.name("out"));

    // Forward, in place; the columns outside the heads are left exactly as they were.
    Tensor x = input(rc.name("x"));
    k->rope(x, rc.col, rc.heads, rc.head_dim, rc.at, rc.theta, false);
    const std::vector<double> out_bound = rc.bound(x, xs, out_want);
    check_close(rc.name("out"), x, out_want, out_bound);

    // The inverse undoes it: the rotation back of the forward's rounding errors (each result
    // within the two forward bounds of its pair, a rotation being orthogonal), and one more
    // rounding of its own.
    k->rope(x, rc.col, rc.heads, rc.head_dim, rc.at, rc.theta, true);
    std::vector<double> back_bound = rc.bound(x, out_want, xs);
    const std::int64_t T = x.size(1), W = x.size(2), half = rc.head_dim / 2;
    for (std::int64_t row = 0; row < x.size(0) * T; ++row) {
      for (std::int64_t h = 0; h < rc.heads; ++h) {
        for (std::int64_t i = 0; i < half; ++i) {
          const std::int64_t first = row * W + rc.col + h * rc.head_dim + i, second = first + half;
          const double carried = out_bound[first] + out_bound[second];
          back_bound[first] += carried, back_bound[second] += carried;
        }
      }
    }
    check_close(rc.name("inverse of out"), x, xs, back_bound);

    // The backward: the inverse turn of dout is autograd's dx.
    Tensor d = input(rc.name("dout"));
    k->rope(d, rc.col, rc.heads, rc.head_dim, rc.at, rc.theta, true);
    check_close(rc.name("dx"), d, expected(rc.name("dx")),
                rc.bound(d, exact(rc.name("dout")), expected(rc.name("dx"))));
  }
}

TEST_CASE("the LLaMA-block kernels check their arguments") {
  using doctest::Contains;
  using trellis::Error;
  auto k = trellis::make_cpu_kernels(1);
  const float eps = 1e-5f;
  Tensor x = filled({3, 4}, 1.0f), w = filled({4}, 1.0f), out = filled({3, 4}, 0.0f),
         rstd = filled({3}, 0.0f);
  CHECK_THROWS_WITH_AS(k->rmsnorm_forward(filled({3, 2, 2}, 1.0f), w, eps, out, rstd),
                       Contains("kernel rmsnorm_forward: x must be 2-D [N, C], got f32[3, 2, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(k->rmsnorm_forward(x, filled({3}, 1.0f), eps, out, rstd),
                       Contains("w is f32[3] on cpu, expected the shape [4]"), Error);
  CHECK_THROWS_WITH_AS(k->rmsnorm_forward(x, w, eps, out, filled({4}, 0.0f)),
                       Contains("rstd is f32[4] on cpu, expected the shape [3]"), Error);
  CHECK_THROWS_WITH_AS(k->rmsnorm_forward(x, w, eps, filled({4, 3}, 0.0f), rstd),
                       Contains("out is f32[4, 3] on cpu, expected the shape [3, 4]"), Error);
  CHECK_THROWS_WITH_AS(k->rmsnorm_backward(x, x, w, rstd, out, filled({5}, 0.0f)),
                       Contains("kernel rmsnorm_backward: dw is f32[5]"), Error);
  CHECK_THROWS_WITH_AS(k->rmsnorm_backward(filled({3, 5}, 0.0f), x, w, rstd, out, w),
                       Contains("kernel rmsnorm_backward: dout is f32[3, 5]"), Error);

  CHECK_THROWS_WITH_AS(k->swiglu_forward(filled({3, 5}, 0.0f), filled({3, 2}, 0.0f)),
                       Contains("kernel swiglu_forward: gate_up must be 2-D [N, 2F]"), Error);
  CHECK_THROWS_WITH_AS(k->swiglu_forward(x, filled({3, 4}, 0.0f)),
                       Contains("out is f32[3, 4] on cpu, expected the shape [3, 2]"), Error);
  CHECK_THROWS_WITH_AS(k->swiglu_backward(x, filled({3, 2}, 0.0f), filled({3, 2}, 0.0f)),
                       Contains("kernel swiglu_backward: dgate_up is f32[3, 2]"), Error);

  trellis::TokenPositions at;
  at.runs = 2, at.start[0] = 0, at.length[0] = 2, at.start[1] = 7, at.length[1] = 1;
  Tensor q = filled({2, 3, 20}, 1.0f);
  CHECK_THROWS_WITH_AS(k->rope(q, 0, 2, 7, at, 1e4, false),
                       Contains("kernel rope: head_dim must be even and positive"), Error);
  CHECK_THROWS_WITH_AS(
      k->rope(q, 5, 2, 8, at, 1e4, false),
      Contains("2 heads of 8 channels from column 5 are not inside x f32[2, 3, 20]"), Error);
  CHECK_THROWS_WITH_AS(k->rope(filled({2, 4, 20}, 1.0f), 0, 2, 8, at, 1e4, false),
                       Contains("has 4 tokens per sequence, but the positions give 3"), Error);
  CHECK_THROWS_WITH_AS(k->rope(filled({6, 20}, 1.0f), 0, 2, 8, at, 1e4, false),
                       Contains("x must be 3-D [B, T, W]"), Error);
  CHECK_THROWS_WITH_AS(k->rope(q, 0, 2, 8, at, 0.0, false),
                       Contains("theta must be positive and finite"), Error);
  trellis::TokenPositions none;
  CHECK_THROWS_WITH_AS(k->rope(q, 0, 2, 8, none, 1e4, false),
                       Contains("at has 0 runs of positions"), Error);
  // In range: the last columns, and no heads at all (nothing to turn).
  k->rope(q, 4, 2, 8, at, 1e4, false);
  k->rope(q, 20, 0, 8, at, 1e4, false);
}

TEST_CASE("causal self-attention forward and backward match PyTorch") {
  const int heads = static_cast<int>(kernels_golden().scalar("attention.heads"));
  for (int threads : {2, 1}) {
    CAPTURE(threads);
    auto k = trellis::make_cpu_kernels(threads);
    Tensor qkv = input("attention.qkv"), dout = input("attention.dout");
    const std::int64_t B = qkv.size(0), T = qkv.size(1), C = qkv.size(2) / 3;
    auto bound = bounds::attention(exact("attention.qkv"), exact("attention.dout"), B, T, C, heads);

    Tensor out = nan_filled({B, T, C}), probs = nan_filled({B, heads, T, T});
    k->attention_forward(qkv, heads, out, probs);
    check_close(label("attention.out", threads), out, expected("attention.out"), bound.out);
    check_close(label("attention.probs", threads), probs, expected("attention.probs"), bound.probs);

    Tensor dqkv = nan_filled({B, T, 3 * C});
    k->attention_backward(dout, qkv, probs, heads, dqkv);
    check_close(label("attention.dqkv", threads), dqkv, expected("attention.dqkv"), bound.dqkv);
  }
}

// The table row each position of a [B, T] batch reads: its token (minus the shard's first id,
// -1 outside the shard) or its position.
std::vector<std::int64_t> token_rows(const std::vector<std::int64_t>& tokens, std::int64_t begin) {
  std::vector<std::int64_t> rows;
  for (std::int64_t t : tokens) rows.push_back(t - begin);
  return rows;
}

std::vector<std::int64_t> position_rows(std::int64_t B, std::int64_t T) {
  std::vector<std::int64_t> rows;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) rows.push_back(t);
  return rows;
}

TEST_CASE("embedding forward and backward match PyTorch, with repeated tokens") {
  for (int threads : {2, 1}) {
    CAPTURE(threads);
    auto k = trellis::make_cpu_kernels(threads);
    Tensor tokens = input("embedding.tokens"), wte = input("embedding.wte");
    Tensor wpe = input("embedding.wpe"), dout = input("embedding.dout");
    const std::int64_t B = tokens.size(0), T = tokens.size(1), C = wte.size(1);

    Tensor out = nan_filled({B, T, C});
    k->embedding_forward(tokens, wte, 0, wpe, out);
    check_close(label("embedding.out", threads), out, expected("embedding.out"),
                bounds::embedding_out(expected("embedding.out")));

    Tensor dwte = from(wte.shape(), pattern(wte.numel()));
    Tensor dwpe = from(wpe.shape(), pattern(wpe.numel()));
    k->embedding_backward(tokens, dout, 0, dwte, dwpe);
    check_close(
        label("embedding.dwte (+= pre-filled)", threads), dwte,
        plus(pattern(wte.numel()), expected("embedding.dwte")),
        bounds::embedding_grad(token_rows(ids("embedding.tokens"), 0), exact("embedding.dout"),
                               pattern(wte.numel()), wte.size(0), C));
    check_close(label("embedding.dwpe (+= pre-filled)", threads), dwpe,
                plus(pattern(wpe.numel()), expected("embedding.dwpe")),
                bounds::embedding_grad(position_rows(B, T), exact("embedding.dout"),
                                       pattern(wpe.numel()), wpe.size(0), C));
  }
}

TEST_CASE("a vocabulary shard of the embedding matches PyTorch and shards add up to the whole") {
  auto k = trellis::make_cpu_kernels(2);
  Tensor tokens = input("embedding.tokens"), wte = input("embedding.wte");
  Tensor wpe = input("embedding.wpe"), dout = input("embedding.dout");
  const std::int64_t B = tokens.size(0), T = tokens.size(1), rows = wte.size(0), C = wte.size(1);
  const std::vector<double> douts = exact("embedding.dout");
  const std::vector<std::int64_t> token_ids = ids("embedding.tokens");

  // The shard PyTorch computed: rows standing for ids [vocab_begin, vocab_begin + 14).
  const auto begin =
      static_cast<std::int64_t>(kernels_golden().scalar("embedding.shard.vocab_begin"));
  Tensor shard = input("embedding.shard.wte");
  Tensor out = nan_filled({B, T, C});
  k->embedding_forward(tokens, shard, begin, wpe, out);
  check_close("embedding.shard.out", out, expected("embedding.shard.out"),
              bounds::embedding_out(expected("embedding.shard.out")));
  Tensor dshard = filled(shard.shape(), 0.0f), dwpe = filled(wpe.shape(), 0.0f);
  k->embedding_backward(tokens, dout, begin, dshard, dwpe);
  const std::vector<double> zero_shard(shard.numel(), 0.0), zero_pe(wpe.numel(), 0.0);
  check_close(
      "embedding.shard.dwte", dshard, expected("embedding.shard.dwte"),
      bounds::embedding_grad(token_rows(token_ids, begin), douts, zero_shard, shard.size(0), C));
  check_close("embedding.shard.dwpe", dwpe, expected("embedding.shard.dwpe"),
              bounds::embedding_grad(position_rows(B, T), douts, zero_pe, wpe.size(0), C));

  // Three uneven shards covering every row, without positions: their outputs sum to the
  // unsharded output minus wpe, and their gradients side by side are the unsharded dwte. Each
  // shard's output is a copied row or 0, added here in double: one rounding, to float.
  const std::vector<std::int64_t> shard_bounds = {0, 13, 27, rows};
  std::vector<double> sum(static_cast<std::size_t>(B * T * C), 0.0), dwte_joined;
  for (std::size_t s = 0; s + 1 < shard_bounds.size(); ++s) {
    Tensor part = wte.narrow(0, shard_bounds[s], shard_bounds[s + 1] - shard_bounds[s]);
    Tensor part_out = nan_filled({B, T, C});
    k->embedding_forward(tokens, part, shard_bounds[s], Tensor(), part_out);
    sum = plus(sum, values(part_out));
    Tensor dpart = filled(part.shape(), 0.0f);
    k->embedding_backward(tokens, dout, shard_bounds[s], dpart, Tensor());
    std::vector<double> d = values(dpart);
    dwte_joined.insert(dwte_joined.end(), d.begin(), d.end());
  }
  std::vector<double> pe = kernels_golden().tensor("embedding.wpe").f64();
  for (std::int64_t i = 0; i < B * T * C; ++i) sum[i] += pe[(i / C % T) * C + i % C];
  check_close("embedding sum of 3 shards", from({B, T, C}, sum), expected("embedding.out"),
              bounds::embedding_out(expected("embedding.out")));
  check_close("embedding dwte of 3 shards", from(wte.shape(), dwte_joined),
              expected("embedding.dwte"),
              bounds::embedding_grad(token_rows(token_ids, 0), douts,
                                     std::vector<double>(wte.numel(), 0.0), rows, C));
}

// Cross-entropy bounds on the golden logits: per shard [begin, end) of the real columns.
struct XentBounds {
  std::vector<double> logits, max, sumexp;
  std::vector<std::int64_t> targets;
  std::int64_t n, vp, vocab;
  double scale;

  XentBounds()
      : logits(exact("xent.logits")),
        max(expected("xent.max")),
        sumexp(expected("xent.sumexp")),
        targets(ids("xent.targets")),
        n(static_cast<std::int64_t>(max.size())),
        vp(static_cast<std::int64_t>(logits.size()) / n),
        vocab(static_cast<std::int64_t>(kernels_golden().scalar("xent.vocab_size"))),
        scale(kernels_golden().scalar("xent.scale")) {}
  std::vector<double> sumexp_of(std::int64_t begin, std::int64_t end) const {
    return bounds::xent_sumexp(logits, max, n, vp, begin, std::min(end, vocab));
  }
  // dlogits of columns [begin, begin + width), with the (combined) sum's bound.
  std::vector<double> dlogits(std::int64_t begin, std::int64_t width,
                              const std::vector<double>& sumexp_bound) const {
    return bounds::xent_dlogits(columns(logits, vp, begin, width), max, sumexp, sumexp_bound,
                                targets, scale, n, width, begin, vocab);
  }
};

// The bound of float sums (in the test, in double, rounded to float) of per-shard bounds.
std::vector<double> combined(const std::vector<std::vector<double>>& parts,
                             const std::vector<double>& total) {
  std::vector<double> out(total.size(), 0.0);
  for (std::size_t i = 0; i < total.size(); ++i) {
    for (const auto& p : parts) out[i] += p[i];
    out[i] += numerics::kUnitRoundoff * std::abs(total[i]);
  }
  return out;
}

TEST_CASE("cross-entropy over the real vocabulary matches PyTorch; padding columns are ignored") {
  auto k = trellis::make_cpu_kernels(2);
  const XentBounds xb;
  Tensor logits = input("xent.logits"), targets = input("xent.targets");
  const std::int64_t n = logits.size(0), vp = logits.size(1);
  const std::int64_t vocab = xb.vocab;
  const auto scale = static_cast<float>(kernels_golden().scalar("xent.scale"));
  const std::vector<double> exact_zero(n, 0.0);

  // The row max and the target's logit are picked, not computed: exact.
  Tensor max = nan_filled({n}), sumexp = nan_filled({n}), target_logit = nan_filled({n});
  k->xent_row_max(logits, 0, vocab, max);
  check_close("xent.max", max, expected("xent.max"), exact_zero);
  k->xent_row_stats(logits, targets, 0, vocab, max, sumexp, target_logit);
  const std::vector<double> sumexp_bound = xb.sumexp_of(0, vocab);
  check_close("xent.sumexp", sumexp, expected("xent.sumexp"), sumexp_bound);
  check_close("xent.target_logit", target_logit, expected("xent.target_logit"), exact_zero);
  double loss_sum = k->xent_loss_sum(max, sumexp, target_logit);
  float loss_f = static_cast<float>(loss_sum);
  check_close(
      "xent.loss_sum", &loss_f, expected("xent.loss_sum"),
      {bounds::xent_loss_sum(xb.sumexp, sumexp_bound, xb.max, expected("xent.target_logit"))});

  Tensor dlogits = nan_filled({n, vp});
  k->xent_backward(logits, targets, 0, vocab, max, sumexp, scale, dlogits);
  check_close("xent.dlogits", dlogits, expected("xent.dlogits"), xb.dlogits(0, vp, sumexp_bound));
  // Padding columns get exactly zero.
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t j = vocab; j < vp; ++j) REQUIRE(dlogits.data<float>()[r * vp + j] == 0.0f);
  }

  // In place: dlogits may be logits.
  Tensor inplace = from(logits.shape(), values(logits));
  k->xent_backward(inplace, targets, 0, vocab, max, sumexp, scale, inplace);
  check_close("xent.dlogits (in place)", inplace, expected("xent.dlogits"),
              xb.dlogits(0, vp, sumexp_bound));
}

TEST_CASE("cross-entropy over two vocabulary shards matches PyTorch step by step") {
  auto k = trellis::make_cpu_kernels(2);
  const GoldenFile& g = kernels_golden();
  const XentBounds xb;
  Tensor logits = input("xent.logits"), targets = input("xent.targets");
  const std::int64_t n = logits.size(0), vp = logits.size(1);
  const std::int64_t vocab = xb.vocab;
  const auto width = static_cast<std::int64_t>(g.scalar("xent.shard.width"));
  const auto scale = static_cast<float>(g.scalar("xent.scale"));
  const std::vector<double> exact_zero(n, 0.0);
  REQUIRE(2 * width == vp);

  // Step 1: each shard's row max; the global max is their max (an all-reduce in a real run).
  Tensor shard_logits[2], shard_max[2];
  std::vector<double> global(n, -std::numeric_limits<double>::infinity());
  for (int s = 0; s < 2; ++s) {
    shard_logits[s] = columns(logits, s * width, width);
    shard_max[s] = nan_filled({n});
    k->xent_row_max(shard_logits[s], s * width, vocab, shard_max[s]);
    check_close("xent.shard" + std::to_string(s) + ".max", shard_max[s],
                expected("xent.shard" + std::to_string(s) + ".max"), exact_zero);
    for (std::int64_t r = 0; r < n; ++r)
      global[r] = std::max<double>(global[r], shard_max[s].data<float>()[r]);
  }
  Tensor max = from({n}, global);
  check_close("xent global max", max, expected("xent.max"), exact_zero);

  // Step 2: per-shard sums of exponentials and target logits; summed over shards (all-reduce).
  std::vector<double> sumexp(n, 0.0), target_logit(n, 0.0);
  std::vector<std::vector<double>> shard_bounds;
  for (int s = 0; s < 2; ++s) {
    std::string name = "xent.shard" + std::to_string(s);
    Tensor se = nan_filled({n}), tl = nan_filled({n});
    k->xent_row_stats(shard_logits[s], targets, s * width, vocab, max, se, tl);
    shard_bounds.push_back(xb.sumexp_of(s * width, (s + 1) * width));
    check_close(name + ".sumexp", se, expected(name + ".sumexp"), shard_bounds.back());
    check_close(name + ".target_logit", tl, expected(name + ".target_logit"), exact_zero);
    sumexp = plus(sumexp, values(se));
    target_logit = plus(target_logit, values(tl));
  }
  Tensor se = from({n}, sumexp), tl = from({n}, target_logit);
  const std::vector<double> sumexp_bound = combined(shard_bounds, xb.sumexp);
  check_close("xent combined sumexp", se, expected("xent.sumexp"), sumexp_bound);
  check_close("xent combined target_logit", tl, expected("xent.target_logit"), exact_zero);
  float loss = static_cast<float>(k->xent_loss_sum(max, se, tl));
  check_close(
      "xent sharded loss_sum", &loss, expected("xent.loss_sum"),
      {bounds::xent_loss_sum(xb.sumexp, sumexp_bound, xb.max, expected("xent.target_logit"))});

  // Step 3: each shard's columns of dlogits.
  for (int s = 0; s < 2; ++s) {
    Tensor d = nan_filled({n, width});
    k->xent_backward(shard_logits[s], targets, s * width, vocab, max, se, scale, d);
    check_close("xent.shard" + std::to_string(s) + " dlogits", d,
                columns(expected("xent.dlogits"), vp, s * width, width),
                xb.dlogits(s * width, width, sumexp_bound));
  }
}

TEST_CASE("cross-entropy over uneven shards, one of them all padding, gives the unsharded loss") {
  auto k = trellis::make_cpu_kernels(2);
  const GoldenFile& g = kernels_golden();
  const XentBounds xb;
  Tensor logits = input("xent.logits"), targets = input("xent.targets");
  const std::int64_t n = logits.size(0), vp = logits.size(1);
  const std::int64_t vocab = xb.vocab;
  const auto scale = static_cast<float>(g.scalar("xent.scale"));

  for (const std::vector<std::int64_t>& split_at :
       {std::vector<std::int64_t>{0, 40, 80, vp}, std::vector<std::int64_t>{0, vocab, vp},
        std::vector<std::int64_t>{0, 1, 96, 97, vp}}) {
    std::string split;
    for (auto b : split_at) split += std::to_string(b) + " ";
    CAPTURE(split);
    const std::size_t shards = split_at.size() - 1;
    std::vector<Tensor> parts;
    std::vector<double> global(n, -std::numeric_limits<double>::infinity());
    for (std::size_t s = 0; s < shards; ++s) {
      parts.push_back(columns(logits, split_at[s], split_at[s + 1] - split_at[s]));
      Tensor m = nan_filled({n});
      k->xent_row_max(parts[s], split_at[s], vocab, m);
      for (std::int64_t r = 0; r < n; ++r)
        global[r] = std::max<double>(global[r], m.data<float>()[r]);
    }
    Tensor max = from({n}, global);
    std::vector<double> sumexp(n, 0.0), target_logit(n, 0.0);
    std::vector<std::vector<double>> shard_bounds;
    for (std::size_t s = 0; s < shards; ++s) {
      Tensor se = nan_filled({n}), tl = nan_filled({n});
      k->xent_row_stats(parts[s], targets, split_at[s], vocab, max, se, tl);
      shard_bounds.push_back(xb.sumexp_of(split_at[s], split_at[s + 1]));
      sumexp = plus(sumexp, values(se));
      target_logit = plus(target_logit, values(tl));
    }
    Tensor se = from({n}, sumexp), tl = from({n}, target_logit);
    const std::vector<double> sumexp_bound = combined(shard_bounds, xb.sumexp);
    float loss = static_cast<float>(k->xent_loss_sum(max, se, tl));
    check_close(
        "xent loss over shards " + split, &loss, expected("xent.loss_sum"),
        {bounds::xent_loss_sum(xb.sumexp, sumexp_bound, xb.max, expected("xent.target_logit"))});
    for (std::size_t s = 0; s < shards; ++s) {
      std::int64_t w = split_at[s + 1] - split_at[s];
      Tensor d = nan_filled({n, w});
      k->xent_backward(parts[s], targets, split_at[s], vocab, max, se, scale, d);
      check_close("xent dlogits of shard at " + std::to_string(split_at[s]), d,
                  columns(expected("xent.dlogits"), vp, split_at[s], w),
                  xb.dlogits(split_at[s], w, sumexp_bound));
    }
  }
}

TEST_CASE("adamw matches torch.optim.AdamW over several steps") {
  auto k = trellis::make_cpu_kernels(2);
  const GoldenFile& g = kernels_golden();
  Tensor param = input("adamw.param");
  std::vector<float> grads = g.tensor("adamw.grads").f32();
  const std::vector<double> after = expected("adamw.after"), m_want = expected("adamw.m"),
                            v_want = expected("adamw.v");
  const int steps = static_cast<int>(g.tensor("adamw.grads").shape()[0]);
  const std::int64_t n = param.numel();
  trellis::AdamWStep step{static_cast<float>(g.scalar("adamw.lr")),
                          static_cast<float>(g.scalar("adamw.beta1")),
                          static_cast<float>(g.scalar("adamw.beta2")),
                          static_cast<float>(g.scalar("adamw.eps")),
                          static_cast<float>(g.scalar("adamw.weight_decay")),
                          0};
  auto slice = [n](const std::vector<double>& all, int s) {
    return std::vector<double>(all.begin() + s * n, all.begin() + (s + 1) * n);
  };
  // PyTorch ran with the Python values (0.9, not float 0.9) and the golden file stores them as
  // float32: the decimal values they were written as come back by rounding to 9 places.
  auto decimal = [](double v) { return std::round(v * 1e9) / 1e9; };
  std::vector<std::vector<double>> grad_steps;
  for (int s = 0; s < steps; ++s) grad_steps.push_back(slice(g.tensor("adamw.grads").f64(), s));
  const auto bound =
      bounds::adamw(exact("adamw.param"), grad_steps, decimal(g.scalar("adamw.lr")),
                    decimal(g.scalar("adamw.beta1")), decimal(g.scalar("adamw.beta2")),
                    decimal(g.scalar("adamw.eps")), decimal(g.scalar("adamw.weight_decay")));
  Tensor m = filled(param.shape(), 0.0f), v = filled(param.shape(), 0.0f);
  for (int s = 0; s < steps; ++s) {
    Tensor grad = Tensor::borrow(grads.data() + s * n, param.shape(), DType::f32);
    step.step = s + 1;
    k->adamw(param, grad, m, v, step);
    std::string at = " after step " + std::to_string(s + 1);
    check_close("adamw.param" + at, param, slice(after, s), bound.param[s]);
    check_close("adamw.m" + at, m, slice(m_want, s), bound.m[s]);
    check_close("adamw.v" + at, v, slice(v_want, s), bound.v[s]);
  }
}

TEST_CASE("matmul with transposes, strided views, alpha and beta matches a triple loop") {
  auto k = trellis::make_cpu_kernels(2);
  const int m = 13, n = 11, kk = 17;
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>((seed >> 8) * (1.0 / 16777216.0) - 0.5);
  };
  // Each operand lives inside a wider (and taller) buffer, so its view has a row stride larger
  // than its width and starts at an offset.
  auto strided = [&](std::int64_t rows, std::int64_t cols) {
    Tensor wide = Tensor::empty({rows + 3, cols + 5}, DType::f32, allocator());
    for (std::int64_t i = 0; i < wide.numel(); ++i) wide.data<float>()[i] = next();
    return wide.narrow(0, 2, rows).narrow(1, 3, cols);
  };
  auto at = [](const Tensor& t, std::int64_t r, std::int64_t c) {
    return static_cast<double>(t.data<float>()[r * t.strides()[0] + c]);
  };
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-0.75f, 0.5f}}) {
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(beta);
        Tensor a = ta ? strided(kk, m) : strided(m, kk);
        Tensor b = tb ? strided(n, kk) : strided(kk, n);
        Tensor out = strided(m, n);
        REQUIRE(out.strides()[0] == n + 5);
        // The operands as row-major [m, kk] and [kk, n] after their transposes, for the bound.
        std::vector<double> want(m * n), before(m * n), a_rows(m * kk), b_rows(kk * n);
        for (int i = 0; i < m; ++i)
          for (int p = 0; p < kk; ++p) a_rows[i * kk + p] = ta ? at(a, p, i) : at(a, i, p);
        for (int p = 0; p < kk; ++p)
          for (int j = 0; j < n; ++j) b_rows[p * n + j] = tb ? at(b, j, p) : at(b, p, j);
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int p = 0; p < kk; ++p) sum += a_rows[i * kk + p] * b_rows[p * n + j];
            before[i * n + j] = at(out, i, j);
            want[i * n + j] = alpha * sum + beta * before[i * n + j];
          }
        }
        // With beta 0 the old contents must not leak in, even NaN.
        if (beta == 0.0f) {
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < n; ++j) {
              out.data<float>()[i * out.strides()[0] + j] = std::numeric_limits<float>::quiet_NaN();
            }
          }
        }
        // The padding around the output view must stay as it was.
        float guard = out.data<float>()[n];
        k->matmul(a, ta, b, tb, out, alpha, beta);
        std::vector<float> got(m * n);
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) got[i * n + j] = static_cast<float>(at(out, i, j));
        }
        check_close("matmul", got.data(), want,
                    bounds::matmul(a_rows, b_rows, before, alpha, beta, m, n, kk));
        CHECK(out.data<float>()[n] == guard);
      }
    }
  }
  Tensor a = strided(3, 4), b = strided(5, 6), out = strided(3, 6);
  CHECK_THROWS_AS(k->matmul(a, false, b, false, out), trellis::Error);
}

TEST_CASE("elementwise kernels: fill, copy, add, accumulate, scale, sum_squares") {
  auto k = trellis::make_cpu_kernels(2);
  const std::int64_t n = 100003;  // above the kernels' thresholds for going parallel
  std::vector<float> a(n), b(n);
  for (std::int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(std::sin(0.001 * i) * 3.0);
    b[i] = static_cast<float>(std::cos(0.003 * i));
  }
  Tensor ta = Tensor::borrow(a.data(), {n}, DType::f32),
         tb = Tensor::borrow(b.data(), {n}, DType::f32);
  Tensor out = nan_filled({n});

  k->fill(out, 2.5f);
  CHECK(std::all_of(out.data<float>(), out.data<float>() + n, [](float x) { return x == 2.5f; }));
  k->copy(ta, out);
  CHECK(std::equal(a.begin(), a.end(), out.data<float>()));
  k->add(ta, tb, out);
  bool same = true;
  for (std::int64_t i = 0; i < n; ++i) same &= out.data<float>()[i] == a[i] + b[i];
  CHECK(same);
  k->accumulate(out, tb);
  same = true;
  for (std::int64_t i = 0; i < n; ++i) same &= out.data<float>()[i] == (a[i] + b[i]) + b[i];
  CHECK(same);
  k->scale(out, -0.5f);
  same = true;
  for (std::int64_t i = 0; i < n; ++i)
    same &= out.data<float>()[i] == ((a[i] + b[i]) + b[i]) * -0.5f;
  CHECK(same);
  double want = 0.0;
  for (float x : a) want += static_cast<double>(x) * x;
  // sum_squares adds float partial sums of 1024 elements in double (kernels.h): at most
  // gamma(1024 + 1) of the sum (all terms positive), whatever the blocking.
  numerics::Comparison c =
      numerics::compare_scalar(k->sum_squares(ta), want, numerics::gamma(1025) * want);
  numerics::report("test_kernels_golden", "sum_squares", c);
  INFO("sum_squares: " << c.describe());
  CHECK(c.ok());
}
