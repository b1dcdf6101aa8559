// Times each CPU kernel at the shapes of one transformer block, so the cost of a training step
// can be attributed. Usage: trellis-bench-kernels [--threads N] [--batch B] [--hidden C]
//                           [--heads NH] [--seq T] [--vocab V] [--blas-core auto|keep|NAME]
// Prints the OpenBLAS kernels it runs ("blas:", chosen as [device] blas_core chooses them for
// trellis-train; the default "auto" restarts the program once where OpenBLAS fell back to generic
// kernels), then one line per kernel: median microseconds over the repetitions and GFLOP/s where
// the kernel is a product. Attention is credited with the full T x T products (model FLOPs),
// though the kernel skips most of the masked half. Exit 2 for a bad --blas-core.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "launch/openblas_reexec.h"
#include "trellis/error.h"

using namespace trellis;

namespace {

double median_us(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  std::int64_t B = 8, T = 128, C = 128, NH = 4, V = 512;
  std::string blas_core = "auto";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::int64_t v = std::atoll(argv[i + 1]);
    if (a == "--blas-core")
      blas_core = argv[i + 1];
    else if (a == "--threads")
      threads = static_cast<int>(v);
    else if (a == "--batch")
      B = v;
    else if (a == "--seq")
      T = v;
    else if (a == "--hidden")
      C = v;
    else if (a == "--heads")
      NH = v;
    else if (a == "--vocab")
      V = v;
  }
  try {
    std::printf(
        "%s\n",
        use_openblas_core(BlasCoreSetting::parse(blas_core, "--blas-core"), argv).line().c_str());
  } catch (const InputError& e) {
    std::fprintf(stderr, "trellis-bench-kernels: %s\n", e.what());
    return 2;
  }
  auto alloc = make_cpu_allocator();
  auto k = make_cpu_kernels(threads);
  const std::int64_t N = B * T;
  auto t = [&](Shape s) {
    Tensor x = Tensor::empty(s, DType::f32, alloc);
    k->fill(x, 0.01f);
    return x;
  };
  Tensor x = t({N, C}), y = t({N, C}), w = t({C, C}), w3 = t({3 * C, C}), b3 = t({3 * C});
  Tensor w4 = t({4 * C, C}), b4 = t({4 * C}), w4t = t({C, 4 * C}), h4 = t({N, 4 * C}),
         g4 = t({N, 4 * C});
  Tensor qkv = t({B, T, 3 * C}), att = t({B, T, C}), probs = t({B, NH, T, T}),
         dqkv = t({B, T, 3 * C});
  Tensor mean = t({N}), rstd = t({N}), lw = t({C}), lb = t({C});
  Tensor wte = t({V, C}), logits = t({N, V});
  Tensor targets = Tensor::empty({N}, DType::i32, alloc);
  std::memset(targets.data_ptr(), 0, targets.nbytes());
  const int reps = 50;
  auto row = [&](const char* name, double us, double flops) {
    if (flops > 0)
      std::printf("%-34s %9.1f us  %7.1f GFLOP/s\n", name, us, flops / us / 1e3);
    else
      std::printf("%-34s %9.1f us\n", name, us);
  };
  std::printf("threads %d, N=%lld tokens, C=%lld, NH=%lld, T=%lld, V=%lld\n", k->threads(),
              (long long)N, (long long)C, (long long)NH, (long long)T, (long long)V);
  double f = 2.0 * N * C;
  row("linear qkv fwd [N,C]x[3C,C]^T", median_us([&] { k->linear_forward(x, w3, b3, qkv); }, reps),
      f * 3 * C);
  row("linear proj fwd", median_us([&] { k->linear_forward(att, w, lb, y); }, reps), f * C);
  row("linear fc fwd", median_us([&] { k->linear_forward(x, w4, b4, h4); }, reps), f * 4 * C);
  row("gelu fwd [N,4C]", median_us([&] { k->gelu_forward(h4, g4); }, reps), 0);
  row("linear fcproj fwd", median_us([&] { k->linear_forward(g4, w4t, lb, y); }, reps), f * 4 * C);
  row("matmul dX [N,4C]=[N,C]x[C,4C]",
      median_us([&] { k->matmul(y, false, w4t, false, g4); }, reps), f * 4 * C);
  row("gelu bwd [N,4C]", median_us([&] { k->gelu_backward(h4, g4, g4); }, reps), 0);
  row("linear fc bwd weight (dW, db)",
      median_us([&] { k->linear_backward(h4, x, w4, Tensor(), w4, b4); }, reps), f * 4 * C);
  row("matmul dW [4C,C]=[N,4C]^T[N,C]",
      median_us([&] { k->matmul(h4, true, x, false, w4, 1.f, 1.f); }, reps), f * 4 * C);
  row("attention fwd", median_us([&] { k->attention_forward(qkv, (int)NH, att, probs); }, reps),
      4.0 * B * T * T * C);
  row("attention bwd",
      median_us([&] { k->attention_backward(att, qkv, probs, (int)NH, dqkv); }, reps),
      8.0 * B * T * T * C);
  row("layernorm fwd", median_us([&] { k->layernorm_forward(x, lw, lb, y, mean, rstd); }, reps), 0);
  row("layernorm bwd",
      median_us([&] { k->layernorm_backward(y, x, lw, mean, rstd, y, lw, lb); }, reps), 0);
  row("add [N,C]", median_us([&] { k->add(x, y, y); }, reps), 0);
  row("head logits [N,C]x[V,C]^T", median_us([&] { k->matmul(x, false, wte, true, logits); }, reps),
      f * V);
  row("xent stats+loss",
      median_us(
          [&] {
            k->xent_row_max(logits, 0, V, mean);
            k->xent_row_stats(logits, targets, 0, V, mean, rstd, rstd);
          },
          reps),
      0);
  row("xent bwd",
      median_us([&] { k->xent_backward(logits, targets, 0, V, mean, rstd, 1.f, logits); }, reps),
      0);
  Tensor m4 = t({4 * C, C}), v4 = t({4 * C, C});
  row("adamw [4C,C]",
      median_us(
          [&] {
            k->adamw(w4, w4, m4, v4, {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1});
          },
          reps),
      0);
  row("sum_squares [4C,C]", median_us([&] { k->sum_squares(w4); }, reps), 0);
  return 0;
}
