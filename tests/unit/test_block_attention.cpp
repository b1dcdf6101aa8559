// The block-attention kernels of context parallelism (attention_block_forward / _backward,
// copy_columns) against causal attention over whole sequences: each context rank's queries,
// merged over every rank's block of keys in any order, give attention_forward's rows, and the
// block gradients summed over the blocks give attention_backward's. Tolerances: the float32
// bounds of tests/numerics/attention_bound.h, for the blocks plus for the whole-sequence kernel.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "attention_bound.h"
#include "error_bound.h"
#include "kernels/cpu/cpu_kernels.h"
#include "trellis/context_attention.h"
#include "trellis/error.h"

using namespace trellis;
namespace numerics = trellis::test::numerics;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<float> values(const Tensor& t) {
  return {t.data<float>(), t.data<float>() + t.numel()};
}

Tensor filled(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape, DType::f32, make_cpu_allocator());
  std::fill_n(t.data<float>(), t.numel(), value);
  return t;
}

Tensor random_tensor(const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape, DType::f32, make_cpu_allocator());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

// The positions a block holds, one after the other.
std::vector<std::int64_t> positions_list(const TokenPositions& at) {
  std::vector<std::int64_t> list;
  for (int r = 0; r < at.runs; ++r)
    for (std::int64_t i = 0; i < at.length[r]; ++i) list.push_back(at.start[r] + i);
  return list;
}

// rows[B, n, W] of whole[B, T, W] at the given positions, and back.
Tensor gather(const Tensor& whole, const std::vector<std::int64_t>& at) {
  const std::int64_t B = whole.size(0), T = whole.size(1), W = whole.size(2);
  const std::int64_t n = static_cast<std::int64_t>(at.size());
  Tensor rows = filled({B, n, W}, 0.0f);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < n; ++i)
      std::copy_n(whole.data<float>() + (b * T + at[i]) * W, W,
                  rows.data<float>() + (b * n + i) * W);
  return rows;
}

void scatter_columns(const Tensor& rows, const std::vector<std::int64_t>& at, std::int64_t col,
                     const Tensor& whole) {
  const std::int64_t B = whole.size(0), T = whole.size(1), W = whole.size(2);
  const std::int64_t n = rows.size(1), w = rows.size(2);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < n; ++i)
      std::copy_n(rows.data<float>() + (b * n + i) * w, w,
                  whole.data<float>() + (b * T + at[i]) * W + col);
}

// The lse rows [B, NH, n] of a block, scattered into [B, NH, T].
void scatter_lse(const Tensor& lse, const std::vector<std::int64_t>& at, std::vector<float>& whole,
                 std::int64_t T) {
  const std::int64_t n = lse.size(2), rows = lse.size(0) * lse.size(1);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < n; ++i) whole[r * T + at[i]] = lse.data<float>()[r * n + i];
}

template <class Expected>
void check_within(const std::string& what, const std::vector<float>& actual,
                  const std::vector<Expected>& expected, const std::vector<double>& bound) {
  const numerics::Comparison c =
      numerics::compare(std::span<const float>(actual), std::span<const Expected>(expected),
                        std::span<const double>(bound));
  numerics::report("test_block_attention", what, c);
  CHECK_MESSAGE(c.ok(), what << ": " << c.describe());
}

// The orders in which a rank may meet the key blocks: 0 ascending, 1 descending, 2 a ring's (its
// own first, then each earlier rank's, wrapping around).
std::vector<int> key_order(int order, int size, int rank) {
  std::vector<int> ranks(size);
  for (int i = 0; i < size; ++i) {
    ranks[i] = order == 0 ? i : order == 1 ? size - 1 - i : (rank - i + size) % size;
  }
  return ranks;
}

struct Case {
  int heads, channels, seq;
};

}  // namespace

TEST_CASE("blocks of load-balanced chunks, merged in any order, give causal attention") {
  const int B = 2;
  auto kernels = make_cpu_kernels(2);
  for (Case cs : {Case{2, 16, 8}, Case{3, 24, 40}, Case{4, 32, 136}}) {
    const int NH = cs.heads, C = cs.channels, T = cs.seq;
    CAPTURE(T);
    CAPTURE(NH);
    std::mt19937 rng(static_cast<unsigned>(T * 7 + NH));
    Tensor qkv = random_tensor({B, T, 3 * C}, rng);
    Tensor dout = random_tensor({B, T, C}, rng);
    // The whole sequence, with the kernels the blocks must reproduce.
    Tensor out_whole = filled({B, T, C}, 0.0f);
    Tensor probs = filled({B, NH, T, T}, 0.0f);
    Tensor dqkv_whole = filled({B, T, 3 * C}, 0.0f);
    kernels->attention_forward(qkv, NH, out_whole, probs);
    kernels->attention_backward(dout, qkv, probs, NH, dqkv_whole);
    const numerics::AttentionReference ref =
        numerics::attention_reference(values(qkv), values(dout), B, T, C, NH);
    const numerics::AttentionBounds whole_bound = numerics::attention_bounds(ref, 0);
    // Queries and key-values apart, as a context plugin cuts them from qkv.
    Tensor q_all = filled({B, T, C}, 0.0f), kv_all = filled({B, T, 2 * C}, 0.0f);
    kernels->copy_columns(qkv.view({B * T, 3 * C}), 0, q_all.view({B * T, C}), 0, C);
    kernels->copy_columns(qkv.view({B * T, 3 * C}), C, kv_all.view({B * T, 2 * C}), 0, 2 * C);

    for (int c : {1, 2, 4}) {
      CAPTURE(c);
      const ContextChunks chunks{T, c, 0};
      const numerics::AttentionBounds block_bound = numerics::attention_bounds(ref, c - 1);
      auto sum = [](const std::vector<double>& a, const std::vector<double>& b) {
        std::vector<double> s(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) s[i] = a[i] + b[i];
        return s;
      };
      const std::vector<double> out_bound = sum(block_bound.out, whole_bound.out);
      const std::vector<double> dqkv_bound = sum(block_bound.dqkv, whole_bound.dqkv);

      std::vector<TokenPositions> at(c);
      std::vector<std::vector<std::int64_t>> listed(c);
      std::vector<Tensor> q(c), kv(c), d(c);
      for (int r = 0; r < c; ++r) {
        at[r] = chunks.positions_of(r);
        listed[r] = positions_list(at[r]);
        q[r] = gather(q_all, listed[r]);
        kv[r] = gather(kv_all, listed[r]);
        d[r] = gather(dout, listed[r]);
      }
      const std::int64_t Tl = chunks.local_len();
      for (int order = 0; order < 3; ++order) {
        CAPTURE(order);
        // Forward: every rank's queries against every rank's keys, in this order.
        Tensor out = filled({B, T, C}, std::nanf(""));
        std::vector<float> lse(static_cast<std::size_t>(B) * NH * T, std::nanf(""));
        std::vector<Tensor> out_r(c), lse_r(c);
        for (int r = 0; r < c; ++r) {
          out_r[r] = filled({B, Tl, C}, std::nanf(""));  // every element must be written
          lse_r[r] = filled({B, NH, Tl}, std::nanf(""));
          bool merge = false;
          for (int s : key_order(order, c, r)) {
            kernels->attention_block_forward(q[r], kv[s], at[r], at[s], NH, out_r[r], lse_r[r],
                                             merge);
            merge = true;
          }
          scatter_columns(out_r[r], listed[r], 0, out);
          scatter_lse(lse_r[r], listed[r], lse, T);
        }
        check_within("out c=" + std::to_string(c), values(out), values(out_whole), out_bound);
        check_within("lse c=" + std::to_string(c), lse, ref.lse, block_bound.lse);

        // Backward: each (query block, key block) pair adds its share to dq and dkv.
        std::vector<Tensor> dq(c), dkv(c);
        for (int r = 0; r < c; ++r) {
          dq[r] = filled({B, Tl, C}, 0.0f);
          dkv[r] = filled({B, Tl, 2 * C}, 0.0f);
        }
        for (int r = 0; r < c; ++r)
          for (int s : key_order(order, c, r))
            kernels->attention_block_backward(d[r], q[r], kv[s], at[r], at[s], NH, out_r[r],
                                              lse_r[r], dq[r], dkv[s]);
        Tensor dqkv = filled({B, T, 3 * C}, std::nanf(""));
        for (int r = 0; r < c; ++r) {
          scatter_columns(dq[r], listed[r], 0, dqkv);
          scatter_columns(dkv[r], listed[r], C, dqkv);
        }
        check_within("dqkv c=" + std::to_string(c), values(dqkv), values(dqkv_whole), dqkv_bound);
      }
    }
  }
}

TEST_CASE("a block of keys that all come after the queries changes nothing") {
  auto kernels = make_cpu_kernels(2);
  std::mt19937 rng(5);
  const int B = 2, NH = 2, C = 8, n = 6;
  TokenPositions early{}, late{};
  early.runs = late.runs = 1;
  early.start[0] = 0, late.start[0] = n;
  early.length[0] = late.length[0] = n;
  Tensor q = random_tensor({B, n, C}, rng), kv = random_tensor({B, n, 2 * C}, rng);
  Tensor out = random_tensor({B, n, C}, rng), lse = random_tensor({B, NH, n}, rng);
  const std::vector<float> out_before = values(out), lse_before = values(lse);
  kernels->attention_block_forward(q, kv, early, late, NH, out, lse, true);
  CHECK(values(out) == out_before);
  CHECK(values(lse) == lse_before);
  // Its gradients are zero: dq and dkv keep what they held.
  Tensor dout = random_tensor({B, n, C}, rng);
  Tensor dq = random_tensor({B, n, C}, rng), dkv = random_tensor({B, n, 2 * C}, rng);
  const std::vector<float> dq_before = values(dq), dkv_before = values(dkv);
  kernels->attention_block_backward(dout, q, kv, early, late, NH, out, lse, dq, dkv);
  CHECK(values(dq) == dq_before);
  CHECK(values(dkv) == dkv_before);
  // Without merge: no query sees a key, so out is 0 and lse -inf.
  kernels->attention_block_forward(q, kv, early, late, NH, out, lse, false);
  CHECK(values(out) == std::vector<float>(out.numel(), 0.0f));
  CHECK(values(lse) == std::vector<float>(lse.numel(), kNegInf));
}

TEST_CASE("rows that see no key give out 0 and lse -inf, and merge without NaN") {
  auto kernels = make_cpu_kernels(1);
  std::mt19937 rng(9);
  const int B = 1, NH = 1, C = 4;
  // Queries at 0..2 and 10..12; keys at 5..11: the first run sees none, 10 and 11 some, 12 all.
  TokenPositions qa{}, ka{};
  qa.runs = 2, qa.start[0] = 0, qa.length[0] = 3, qa.start[1] = 10, qa.length[1] = 3;
  ka.runs = 1, ka.start[0] = 5, ka.length[0] = 7;
  Tensor q = random_tensor({B, 6, C}, rng), kv = random_tensor({B, 7, 2 * C}, rng);
  Tensor out = filled({B, 6, C}, std::nanf("")), lse = filled({B, NH, 6}, std::nanf(""));
  kernels->attention_block_forward(q, kv, qa, ka, NH, out, lse, false);
  for (int i = 0; i < 3; ++i) {
    CHECK(lse.data<float>()[i] == kNegInf);
    for (int d = 0; d < C; ++d) CHECK(out.data<float>()[i * C + d] == 0.0f);
  }
  for (int i = 3; i < 6; ++i) CHECK(std::isfinite(lse.data<float>()[i]));
  // Query 10 sees keys 5..10: six of the seven. Its lse, directly.
  {
    const float* qi = q.data<float>() + 3 * C;
    double max = -HUGE_VAL, sum = 0;
    std::vector<double> s(6);
    for (int j = 0; j < 6; ++j) {
      double dot = 0;
      for (int d = 0; d < C; ++d) dot += double(qi[d]) * kv.data<float>()[j * 2 * C + d];
      s[j] = dot / std::sqrt(double(C));
      max = std::max(max, s[j]);
    }
    for (double x : s) sum += std::exp(x - max);
    CHECK(lse.data<float>()[3] == doctest::Approx(max + std::log(sum)).epsilon(1e-5));
  }
  // Merging these into themselves: the visible rows keep out and gain log 2 in lse; the rows
  // that see nothing on either side stay at 0 and -inf.
  const std::vector<float> out_once = values(out), lse_once = values(lse);
  kernels->attention_block_forward(q, kv, qa, ka, NH, out, lse, true);
  for (int i = 0; i < 6; ++i) {
    if (i < 3) {
      CHECK(lse.data<float>()[i] == kNegInf);
    } else {
      CHECK(lse.data<float>()[i] == doctest::Approx(lse_once[i] + std::log(2.0)).epsilon(1e-6));
    }
    for (int d = 0; d < C; ++d) {
      CHECK(out.data<float>()[i * C + d] ==
            doctest::Approx(out_once[i * C + d]).epsilon(1e-6).scale(1.0));
    }
  }
  // Merging a finite result into rows that held -inf takes it as it is.
  TokenPositions early_keys{};
  early_keys.runs = 1, early_keys.start[0] = 0, early_keys.length[0] = 7;
  Tensor out2 = filled({B, 6, C}, 0.0f);
  Tensor lse2 = filled({B, NH, 6}, kNegInf);
  kernels->attention_block_forward(q, kv, qa, early_keys, NH, out2, lse2, true);
  Tensor out3 = filled({B, 6, C}, 0.0f), lse3 = filled({B, NH, 6}, 0.0f);
  kernels->attention_block_forward(q, kv, qa, early_keys, NH, out3, lse3, false);
  CHECK(values(out2) == values(out3));
  CHECK(values(lse2) == values(lse3));
  // Backward: the rows that see nothing add nothing, and nothing turns NaN.
  Tensor dout = random_tensor({B, 6, C}, rng);
  Tensor dq = filled({B, 6, C}, 0.0f), dkv = filled({B, 7, 2 * C}, 0.0f);
  kernels->attention_block_backward(dout, q, kv, qa, ka, NH, out, lse, dq, dkv);
  for (int i = 0; i < 3 * C; ++i) CHECK(dq.data<float>()[i] == 0.0f);
  for (float x : values(dq)) CHECK(std::isfinite(x));
  for (float x : values(dkv)) CHECK(std::isfinite(x));
}

TEST_CASE("copy_columns copies a band of columns and nothing else") {
  auto kernels = make_cpu_kernels(2);
  for (std::int64_t rows : {5, 3000}) {  // 3000 x 30: split over threads
    CAPTURE(rows);
    Tensor src = filled({rows, 40}, 0.0f), dst = filled({rows, 33}, -1.0f);
    for (std::int64_t i = 0; i < src.numel(); ++i) src.data<float>()[i] = static_cast<float>(i);
    kernels->copy_columns(src, 7, dst, 2, 30);
    bool right = true;
    for (std::int64_t n = 0; n < rows; ++n)
      for (std::int64_t j = 0; j < 33; ++j) {
        const float want = j >= 2 && j < 32 ? src.data<float>()[n * 40 + 7 + j - 2] : -1.0f;
        right = right && dst.data<float>()[n * 33 + j] == want;
      }
    CHECK(right);
  }
  Tensor empty_band = filled({4, 3}, 2.0f);
  kernels->copy_columns(filled({4, 5}, 1.0f), 5, empty_band, 3, 0);  // width 0 at the edge
  CHECK(values(empty_band) == std::vector<float>(12, 2.0f));
}

TEST_CASE("the block kernels name the kernel and the argument that is wrong") {
  auto k = make_cpu_kernels(1);
  const int B = 2, NH = 2, C = 8;
  TokenPositions at{};
  at.runs = 1, at.length[0] = 4;
  Tensor q = filled({B, 4, C}, 0.0f), kv = filled({B, 4, 2 * C}, 0.0f);
  Tensor out = filled({B, 4, C}, 0.0f), lse = filled({B, NH, 4}, 0.0f);
  Tensor dq = filled({B, 4, C}, 0.0f), dkv = filled({B, 4, 2 * C}, 0.0f);
  auto forward = [&](const TokenPositions& qa, const TokenPositions& ka, const Tensor& qt,
                     const Tensor& kvt, int heads, const Tensor& o, const Tensor& l) {
    k->attention_block_forward(qt, kvt, qa, ka, heads, o, l, false);
  };
  using doctest::Contains;
  CHECK_THROWS_WITH_AS(forward(at, at, q, kv, 3, out, lse),
                       Contains("kernel attention_block_forward: 8 channels do not split into 3"),
                       Error);
  TokenPositions none = at;
  none.runs = 0;
  CHECK_THROWS_WITH_AS(forward(none, at, q, kv, NH, out, lse),
                       Contains("q_at has 0 runs of positions, expected 1 to 4"), Error);
  TokenPositions five = at;
  five.runs = 5;
  CHECK_THROWS_WITH_AS(forward(at, five, q, kv, NH, out, lse),
                       Contains("k_at has 5 runs of positions"), Error);
  TokenPositions negative = at;
  negative.runs = 2, negative.start[1] = 4, negative.length[1] = -1;
  CHECK_THROWS_WITH_AS(forward(negative, at, q, kv, NH, out, lse),
                       Contains("q_at's run 1 starts at 4 with -1 tokens"), Error);
  TokenPositions longer = at;
  longer.length[0] = 5;
  CHECK_THROWS_WITH_AS(forward(longer, at, q, kv, NH, out, lse),
                       Contains("kernel attention_block_forward: q is f32[2, 4, 8] on cpu, "
                                "expected the shape [2, 5, 8]"),
                       Error);
  CHECK_THROWS_WITH_AS(forward(at, longer, q, kv, NH, out, lse),
                       Contains("kv is f32[2, 4, 16] on cpu, expected the shape [2, 5, 16]"),
                       Error);
  CHECK_THROWS_WITH_AS(forward(at, at, q, filled({B, 4, C}, 0.0f), NH, out, lse),
                       Contains("kv is f32[2, 4, 8]"), Error);
  CHECK_THROWS_WITH_AS(forward(at, at, q, kv, NH, out, filled({B, 4, NH}, 0.0f)),
                       Contains("lse is f32[2, 4, 2] on cpu, expected the shape [2, 2, 4]"), Error);
  CHECK_THROWS_WITH_AS(forward(at, at, q, kv, NH, filled({B, 4, 2 * C}, 0.0f), lse),
                       Contains("out is f32[2, 4, 16]"), Error);
  CHECK_THROWS_WITH_AS(
      forward(at, at, q, kv, NH, out, Tensor::empty({B, NH, 4}, DType::i32, make_cpu_allocator())),
      Contains("lse must be f32"), Error);
  CHECK_THROWS_WITH_AS(
      forward(at, at, filled({B, 4, 3 * C}, 0.0f).narrow(2, 0, C), kv, NH, out, lse),
      Contains("q must be contiguous"), Error);
  CHECK_THROWS_WITH_AS(
      k->attention_block_backward(out, q, kv, at, at, NH, out, lse, dq, filled({B, 4, C}, 0.0f)),
      Contains("kernel attention_block_backward: dkv is f32[2, 4, 8]"), Error);
  CHECK_THROWS_WITH_AS(
      k->attention_block_backward(filled({B, 3, C}, 0.0f), q, kv, at, at, NH, out, lse, dq, dkv),
      Contains("kernel attention_block_backward: dout is f32[2, 3, 8]"), Error);
  CHECK_NOTHROW(k->attention_block_backward(out, q, kv, at, at, NH, out, lse, dq, dkv));

  CHECK_THROWS_WITH_AS(k->copy_columns(filled({4, 5}, 0.0f), 3, filled({4, 5}, 0.0f), 0, 3),
                       Contains("kernel copy_columns: columns [3, 6) are not inside src"), Error);
  CHECK_THROWS_WITH_AS(k->copy_columns(filled({4, 5}, 0.0f), 0, filled({4, 2}, 0.0f), 0, 3),
                       Contains("columns [0, 3) are not inside dst f32[4, 2]"), Error);
  CHECK_THROWS_WITH_AS(k->copy_columns(filled({4, 5}, 0.0f), 0, filled({3, 5}, 0.0f), 0, 3),
                       Contains("kernel copy_columns: src f32[4, 5] on cpu and dst f32[3, 5] on "
                                "cpu differ in rows"),
                       Error);
  CHECK_THROWS_WITH_AS(k->copy_columns(filled({4, 5}, 0.0f), -1, filled({4, 5}, 0.0f), 0, 3),
                       Contains("columns [-1, 2) are not inside src"), Error);
  CHECK_THROWS_WITH_AS(k->copy_columns(filled({20}, 0.0f), 0, filled({4, 5}, 0.0f), 0, 3),
                       Contains("kernel copy_columns: expected a rank-2 tensor, got f32[20]"),
                       Error);
}
