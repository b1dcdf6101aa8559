// Every CUDA kernel against the CPU one on the same inputs (fp32: agreement up to summation
// order; bf16 mixed precision: every kernel whose numerics depend on the precision — the matrix
// products, linear and attention — within a bound computed for each output element from its
// operands' magnitudes, bf16_bounds.h), the CUDA allocator's accounting, and a few training steps
// of a small transformer written with the kernels, on both devices (test_cuda_training.cpp).
//
// Skipped (exit 77) with the reason where this build or machine has no GPU; before skipping it
// checks that asking for the CUDA device there fails with that reason rather than crashing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bf16_kernel_cases.h"
#include "device/cuda_device.h"
#include "device/cuda_probe.h"
#include "gpu_pair.h"
#include "kernels/cuda_kernels.h"
#include "trellis/context_attention.h"
#include "trellis/error.h"

using namespace trellis;
using trellis::gpu_test::Devices;
using trellis::gpu_test::on_both;
using trellis::gpu_test::Pair;

namespace {

constexpr double kF32 = 2e-5;  // fp32 on both sides: summation order only

// Made once and never destroyed: its CUDA handles must not be released after the CUDA runtime
// has been unloaded at exit.
Devices& devices() {
  static Devices* instance = new Devices;
  return *instance;
}

// The same for bf16 mixed precision.
Devices& bf16_devices() {
  static Devices* instance = new Devices(CudaPrecision::bf16);
  return *instance;
}

// Each line a failure of a bf16 case (bf16_kernel_cases.h).
void check_none(const std::vector<std::string>& failures) {
  for (const std::string& failure : failures) FAIL_CHECK(failure);
}

#define CHECK_CLOSE(pair, tolerance)                              \
  do {                                                            \
    const std::string wrong = devices().compare(pair, tolerance); \
    CHECK_MESSAGE(wrong.empty(), #pair ": " << wrong);            \
  } while (0)

}  // namespace

TEST_CASE("fill, add, accumulate, scale, copy") {
  Devices& d = devices();
  Pair a = d.random({1000, 3}, 1), b = d.random({1000, 3}, 2), out = d.zeros({1000, 3});
  on_both(d, [&](Kernels& k, auto at) {
    k.add(at(a), at(b), at(out));
    k.accumulate(at(out), at(a));
    k.scale(at(out), -0.5f);
  });
  CHECK_CLOSE(out, 0.0);
  Pair filled = d.zeros({77});
  on_both(d, [&](Kernels& k, auto at) { k.fill(at(filled), 3.25f); });
  CHECK_CLOSE(filled, 0.0);
  Pair copied = d.zeros({1000, 3});
  on_both(d, [&](Kernels& k, auto at) { k.copy(at(a), at(copied)); });
  CHECK_CLOSE(copied, 0.0);
}

TEST_CASE("f32 -> bf16 -> f32 rounds to bf16 and back") {
  Devices& d = devices();
  Pair x = d.random({4099}, 3, 100.0f);
  Tensor half = Tensor::empty({4099}, DType::bf16, d.device_allocator());
  Pair back = d.zeros({4099});
  d.device().copy(x.device, half);
  d.device().copy(half, back.device);
  d.cpu().copy(x.host, back.host);
  CHECK_CLOSE(back, 1.0 / 128);  // 8 significant bits
}

TEST_CASE("sum_squares") {
  Devices& d = devices();
  for (std::int64_t n : {0, 1, 1023, 1025, 300001}) {
    Pair x = d.random({n}, 4);
    const double cpu = d.cpu().sum_squares(x.host), gpu = d.device().sum_squares(x.device);
    CHECK(gpu == doctest::Approx(cpu).epsilon(1e-6));
  }
}

TEST_CASE("matmul: every transpose, strided rows, alpha and beta") {
  Devices& d = devices();
  const int m = 37, n = 29, k = 45;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // a and b are views of wider matrices (row stride larger than their width).
      Pair a_full = d.random({ta ? k : m, (ta ? m : k) + 5}, 5);
      Pair b_full = d.random({tb ? n : k, (tb ? k : n) + 3}, 6);
      Pair out = d.random({m, n}, 7);
      on_both(d, [&](Kernels& kernels, auto at) {
        Tensor a = at(a_full).narrow(1, 2, ta ? m : k), b = at(b_full).narrow(1, 1, tb ? k : n);
        kernels.matmul(a, ta, b, tb, at(out), 0.75f, 0.5f);
      });
      CAPTURE(ta);
      CAPTURE(tb);
      CHECK_CLOSE(out, kF32);
    }
  }
}

TEST_CASE("linear forward and backward") {
  Devices& d = devices();
  const int n = 70, c = 48, oc = 80;
  Pair x = d.random({n, c}, 8), w = d.random({oc, c}, 9, 0.2f), b = d.random({oc}, 10);
  Pair out = d.zeros({n, oc}), dout = d.random({n, oc}, 11);
  Pair dx = d.zeros({n, c}), dw = d.random({oc, c}, 12), db = d.random({oc}, 13);
  on_both(d, [&](Kernels& k, auto at) {
    k.linear_forward(at(x), at(w), at(b), at(out));
    k.linear_backward(at(dout), at(x), at(w), at(dx), at(dw), at(db));
  });
  CHECK_CLOSE(out, kF32);
  CHECK_CLOSE(dx, kF32);
  CHECK_CLOSE(dw, kF32);
  CHECK_CLOSE(db, kF32);
}

TEST_CASE("layernorm forward and backward, whole rows and channel shards") {
  Devices& d = devices();
  const int n = 33, c = 300;
  Pair x = d.random({n, c}, 14, 3.0f), w = d.random({c}, 15), b = d.random({c}, 16);
  Pair out = d.zeros({n, c}), mean = d.zeros({n}), rstd = d.zeros({n});
  Pair dout = d.random({n, c}, 17), dx = d.zeros({n, c}), dw = d.random({c}, 18),
       db = d.random({c}, 19);
  on_both(d, [&](Kernels& k, auto at) {
    k.layernorm_forward(at(x), at(w), at(b), at(out), at(mean), at(rstd));
    k.layernorm_backward(at(dout), at(x), at(w), at(mean), at(rstd), at(dx), at(dw), at(db));
  });
  CHECK_CLOSE(out, kF32);
  CHECK_CLOSE(mean, kF32);
  CHECK_CLOSE(rstd, kF32);
  CHECK_CLOSE(dx, 1e-4);
  CHECK_CLOSE(dw, kF32);
  CHECK_CLOSE(db, kF32);

  // A shard of 100 of the row's 300 channels, step by step.
  const int cs = 100;
  Pair xs = d.random({n, cs}, 20), ws = d.random({cs}, 21), bs = d.random({cs}, 22);
  Pair smean = d.zeros({n}), svar = d.zeros({n}), sout = d.zeros({n, cs}), srstd = d.zeros({n});
  Pair sdout = d.random({n, cs}, 23), dsums = d.zeros({2, n}), sdx = d.zeros({n, cs}),
       sdw = d.zeros({cs}), sdb = d.zeros({cs});
  on_both(d, [&](Kernels& k, auto at) {
    k.layernorm_shard_mean(at(xs), c, at(smean));
    k.layernorm_shard_var(at(xs), at(smean), c, at(svar));
    k.layernorm_shard_forward(at(xs), at(ws), at(bs), at(smean), at(svar), at(sout), at(srstd));
    k.layernorm_shard_backward_sums(at(sdout), at(xs), at(ws), at(smean), at(srstd), c, at(dsums));
    k.layernorm_shard_backward(at(sdout), at(xs), at(ws), at(smean), at(srstd), at(dsums), at(sdx),
                               at(sdw), at(sdb));
  });
  CHECK_CLOSE(smean, kF32);
  CHECK_CLOSE(svar, kF32);
  CHECK_CLOSE(sout, kF32);
  CHECK_CLOSE(srstd, kF32);
  CHECK_CLOSE(dsums, kF32);
  CHECK_CLOSE(sdx, 1e-4);
  CHECK_CLOSE(sdw, kF32);
  CHECK_CLOSE(sdb, kF32);
}

TEST_CASE("gelu forward and backward") {
  Devices& d = devices();
  Pair x = d.random({5000}, 24, 8.0f), out = d.zeros({5000}), dout = d.random({5000}, 25),
       dx = d.zeros({5000});
  on_both(d, [&](Kernels& k, auto at) {
    k.gelu_forward(at(x), at(out));
    k.gelu_backward(at(x), at(dout), at(dx));
  });
  CHECK_CLOSE(out, 1e-6);
  CHECK_CLOSE(dx, 1e-6);
}

TEST_CASE("rmsnorm, swiglu and rotary positions (the LLaMA block)") {
  Devices& d = devices();
  const int n = 33, c = 300;
  Pair x = d.random({n, c}, 80, 3.0f), w = d.random({c}, 81), out = d.zeros({n, c}),
       rstd = d.zeros({n});
  Pair dout = d.random({n, c}, 82), dx = d.zeros({n, c}), dw = d.random({c}, 83);
  Pair gate_up = d.random({n, 2 * c}, 84, 8.0f), act = d.zeros({n, c}),
       dgate_up = d.zeros({n, 2 * c});
  // Tokens at positions 0-8 and 27-35, 4 heads of 64 from column 10 of 300.
  TokenPositions at{};
  at.runs = 2;
  at.length[0] = at.length[1] = 9;
  at.start[1] = 27;
  Pair q = d.random({2, 18, c}, 85), dq = d.random({2, 18, c}, 86);
  on_both(d, [&](Kernels& k, auto pick) {
    k.rmsnorm_forward(pick(x), pick(w), 1e-5f, pick(out), pick(rstd));
    k.rmsnorm_backward(pick(dout), pick(x), pick(w), pick(rstd), pick(dx), pick(dw));
    k.swiglu_forward(pick(gate_up), pick(act));
    k.swiglu_backward(pick(gate_up), pick(dout), pick(dgate_up));
    k.rope(pick(q), 10, 4, 64, at, 500000.0, false);
    k.rope(pick(dq), 10, 4, 64, at, 500000.0, true);
  });
  CHECK_CLOSE(out, kF32);
  CHECK_CLOSE(rstd, kF32);
  CHECK_CLOSE(dx, 1e-4);
  CHECK_CLOSE(dw, kF32);
  CHECK_CLOSE(act, 1e-6);
  CHECK_CLOSE(dgate_up, 1e-6);
  CHECK_CLOSE(q, 1e-6);
  CHECK_CLOSE(dq, 1e-6);
}

TEST_CASE("causal attention forward and backward") {
  Devices& d = devices();
  const int B = 3, T = 37, C = 48, NH = 4;
  Pair qkv = d.random({B, T, 3 * C}, 26), out = d.zeros({B, T, C}), probs = d.zeros({B, NH, T, T});
  Pair dout = d.random({B, T, C}, 27), dqkv = d.random({B, T, 3 * C}, 28);
  on_both(d, [&](Kernels& k, auto at) {
    k.attention_forward(at(qkv), NH, at(out), at(probs));
    k.attention_backward(at(dout), at(qkv), at(probs), NH, at(dqkv));
  });
  CHECK_CLOSE(probs, kF32);
  CHECK_CLOSE(out, kF32);
  CHECK_CLOSE(dqkv, kF32);
}

TEST_CASE("block attention over load-balanced chunks, merged, and its backward; copy_columns") {
  Devices& d = devices();
  // Two context ranks of T = 72 (chunks of 18): rank 0 holds positions 0-17 and 54-71, rank 1
  // 18-53. Each rank's queries meet its own keys first (every row then sees a key), then the
  // other rank's: rank 0's first chunk sees none of rank 1's keys (the block changes nothing),
  // its last chunk sees all of them (no mask), and rank 1 sees all of rank 0's first chunk and
  // none of its last.
  const int B = 2, NH = 3, C = 48;
  const ContextChunks chunks{72, 2, 0};
  const std::int64_t Tl = chunks.local_len();
  Pair q[2] = {d.random({B, Tl, C}, 60), d.random({B, Tl, C}, 61)};
  Pair kv[2] = {d.random({B, Tl, 2 * C}, 62), d.random({B, Tl, 2 * C}, 63)};
  Pair dout[2] = {d.random({B, Tl, C}, 64), d.random({B, Tl, C}, 65)};
  Pair out[2] = {d.zeros({B, Tl, C}), d.zeros({B, Tl, C})};
  Pair lse[2] = {d.zeros({B, NH, Tl}), d.zeros({B, NH, Tl})};
  Pair dq[2] = {d.random({B, Tl, C}, 66), d.random({B, Tl, C}, 67)};  // accumulated into
  Pair dkv[2] = {d.random({B, Tl, 2 * C}, 68), d.random({B, Tl, 2 * C}, 69)};
  on_both(d, [&](Kernels& k, auto at) {
    for (int r = 0; r < 2; ++r) {
      const int other = 1 - r;
      k.attention_block_forward(at(q[r]), at(kv[r]), chunks.positions_of(r), chunks.positions_of(r),
                                NH, at(out[r]), at(lse[r]), false);
      k.attention_block_forward(at(q[r]), at(kv[other]), chunks.positions_of(r),
                                chunks.positions_of(other), NH, at(out[r]), at(lse[r]), true);
    }
    for (int r = 0; r < 2; ++r)
      for (int s = 0; s < 2; ++s)
        k.attention_block_backward(at(dout[r]), at(q[r]), at(kv[s]), chunks.positions_of(r),
                                   chunks.positions_of(s), NH, at(out[r]), at(lse[r]), at(dq[r]),
                                   at(dkv[s]));
  });
  for (int r = 0; r < 2; ++r) {
    CAPTURE(r);
    CHECK_CLOSE(out[r], kF32);
    CHECK_CLOSE(lse[r], kF32);
    CHECK_CLOSE(dq[r], kF32);
    CHECK_CLOSE(dkv[r], kF32);
  }
  // A block of keys all after the queries, without merge: out 0 and lse -inf on both.
  TokenPositions early = chunks.positions_of(0), late = chunks.positions_of(1);
  early.runs = 1;
  early.length[0] = late.length[0] + late.length[1];
  late.runs = 1;
  late.start[0] = early.length[0];
  late.length[0] = early.length[0];
  on_both(d, [&](Kernels& k, auto at) {
    k.attention_block_forward(at(q[0]), at(kv[1]), early, late, NH, at(out[0]), at(lse[0]), false);
  });
  for (float x : d.download(out[0].device)) CHECK(x == 0.0f);
  for (float x : d.download(lse[0].device)) CHECK(x == -INFINITY);

  Pair src = d.random({300, 40}, 70), dst = d.random({300, 33}, 71);
  on_both(d, [&](Kernels& k, auto at) { k.copy_columns(at(src), 7, at(dst), 2, 30); });
  CHECK_CLOSE(dst, 0.0);
}

TEST_CASE("embedding forward and backward, on a shard of the vocabulary") {
  Devices& d = devices();
  const int B = 2, T = 9, C = 24, rows = 30, begin = 20;
  Pair tokens = d.tokens({B, T}, 29, 64);  // some ids fall outside rows [20, 50)
  Pair wte = d.random({rows, C}, 30), wpe = d.random({T + 3, C}, 31), out = d.zeros({B, T, C});
  Pair dout = d.random({B, T, C}, 32), dwte = d.random({rows, C}, 33), dwpe = d.zeros({T + 3, C});
  on_both(d, [&](Kernels& k, auto at) {
    k.embedding_forward(at(tokens), at(wte), begin, at(wpe), at(out));
    k.embedding_backward(at(tokens), at(dout), begin, at(dwte), at(dwpe));
  });
  CHECK_CLOSE(out, 0.0);
  CHECK_CLOSE(dwte, kF32);
  CHECK_CLOSE(dwpe, kF32);
  Pair bare = d.zeros({B, T, C});
  on_both(d, [&](Kernels& k, auto at) {
    k.embedding_forward(at(tokens), at(wte), begin, Tensor(), at(bare));
  });
  CHECK_CLOSE(bare, 0.0);
}

TEST_CASE("cross-entropy steps, with padding columns and a vocabulary shard") {
  Devices& d = devices();
  const int n = 41, cols = 70;
  for (std::int64_t begin : {0, 35}) {
    const std::int64_t vocab = 60;  // the last shard's columns past id 60 are padding
    Pair logits = d.random({n, cols}, 34, 6.0f), targets = d.tokens({n}, 35, 60);
    Pair max = d.zeros({n}), sumexp = d.zeros({n}), target_logit = d.zeros({n});
    Pair dlogits = d.zeros({n, cols});
    double loss[2] = {0, 0};
    int side = 0;
    on_both(d, [&](Kernels& k, auto at) {
      k.xent_row_max(at(logits), begin, vocab, at(max));
      k.xent_row_stats(at(logits), at(targets), begin, vocab, at(max), at(sumexp),
                       at(target_logit));
      loss[side++] = k.xent_loss_sum(at(max), at(sumexp), at(target_logit));
      k.xent_backward(at(logits), at(targets), begin, vocab, at(max), at(sumexp), 0.25f,
                      at(dlogits));
    });
    CAPTURE(begin);
    CHECK_CLOSE(max, 0.0);
    CHECK_CLOSE(sumexp, kF32);
    CHECK_CLOSE(target_logit, 0.0);
    CHECK(loss[1] == doctest::Approx(loss[0]).epsilon(1e-6));
    CHECK_CLOSE(dlogits, kF32);
    // In place: dlogits may be the logits.
    on_both(d, [&](Kernels& k, auto at) {
      k.xent_backward(at(logits), at(targets), begin, vocab, at(max), at(sumexp), 0.25f,
                      at(logits));
    });
    CHECK_CLOSE(logits, kF32);
  }
}

TEST_CASE("bf16: matmul, every transpose, strided rows, alpha and beta, within the bound") {
  check_none(bf16_matmul_cases(bf16_devices()));
}

TEST_CASE("bf16: products multiply the operands rounded to bf16, accumulating in fp32") {
  check_none(bf16_rounded_operand_cases(bf16_devices()));
}

TEST_CASE("bf16: linear forward and backward within the bound") {
  check_none(bf16_linear_cases(bf16_devices()));
}

TEST_CASE("bf16: causal attention forward and backward within the bound") {
  check_none(bf16_attention_cases(bf16_devices()));
}

TEST_CASE("AdamW, three steps") {
  Devices& d = devices();
  Pair param = d.random({3001}, 36), m = d.zeros({3001}), v = d.zeros({3001});
  for (int step = 1; step <= 3; ++step) {
    Pair grad = d.random({3001}, 37 + step);
    on_both(d, [&](Kernels& k, auto at) {
      k.adamw(at(param), at(grad), at(m), at(v), {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step});
    });
  }
  CHECK_CLOSE(param, 1e-6);
  CHECK_CLOSE(m, 1e-6);
  CHECK_CLOSE(v, 1e-6);
}

TEST_CASE("the CUDA allocator counts bytes, keeps the peak and reuses freed blocks") {
  std::shared_ptr<Allocator> allocator = make_cuda_allocator(0);
  CHECK(allocator->device() == Device::cuda(0));
  {
    Tensor a = Tensor::empty({1000}, DType::f32, allocator);
    Tensor b = Tensor::empty({500}, DType::bf16, allocator);
    CHECK(allocator->current_bytes() == 5000);
    CHECK(a.device() == Device::cuda(0));
  }
  CHECK(allocator->current_bytes() == 0);
  CHECK(allocator->peak_bytes() == 5000);
  const std::uint64_t taken = allocator->device_allocations();
  Tensor again = Tensor::empty({1000}, DType::f32, allocator);
  CHECK(allocator->device_allocations() == taken);  // served from the cache
  CHECK(allocator->reserved_bytes() == 5000);
  CHECK_THROWS_AS(Tensor::empty({std::int64_t{1} << 50}, DType::f32, allocator), Error);
}

TEST_CASE("kernels refuse host tensors, naming the kernel and the device") {
  Devices& d = devices();
  Pair x = d.random({10}, 41);
  try {
    d.device().scale(x.host, 2.0f);
    FAIL("a host tensor was accepted");
  } catch (const Error& error) {
    const std::string message = error.what();
    CHECK(message.find("scale") != std::string::npos);
    CHECK(message.find("cuda:0") != std::string::npos);
  }
}

int main(int argc, char** argv) {
  const CudaProbe probe = probe_cuda();
  if (probe.device_count == 0) {
    // Without a GPU, asking for one must be a clear error, not a crash.
    try {
      make_cuda_kernels(0);
      std::printf("make_cuda_kernels succeeded without a GPU\n");
      return 1;
    } catch (const Error& error) {
      std::printf("make_cuda_kernels without a GPU: %s\n", error.what());
    }
    std::printf("SKIPPED: no GPU: %s\n", probe.problem.c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
