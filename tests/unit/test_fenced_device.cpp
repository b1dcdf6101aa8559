// The fenced test device: its kernels compute as the CPU kernels do, host code that touches its
// memory outside a kernel call ends the process with a message (exit 70), faults elsewhere still
// crash as before, and its allocator counts, reuses and runs out as documented.
//
// The crashes happen in forked children, whose exit status and output the parent checks.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "fenced_device.h"
#include "kernels/cpu/cpu_kernels.h"
#include "trellis/error.h"

using namespace trellis;

namespace {

constexpr std::size_t kArenaBytes = std::size_t{64} << 20;
constexpr int kHostTouchedDeviceExitCode = 70;

FencedDevice make_device(std::size_t arena_bytes = kArenaBytes) {
  return make_fenced_device(make_cpu_kernels(2), arena_bytes);
}

// The fault of the null-pointer case. UBSan's null check is off here (TRELLIS_SANITIZE builds),
// so that the store reaches the hardware and faults as in any other build.
__attribute__((no_sanitize("null"))) void write_through_null() {
  // Volatile twice: the compiler can neither see the pointer is null nor drop the store.
  volatile int* volatile null_target = nullptr;
  *null_target = 1;
}

Tensor host_view(std::vector<float>& values, const Shape& shape) {
  return Tensor::borrow(values.data(), shape, DType::f32);
}

struct ChildEnd {
  int status = 0;      // from waitpid
  std::string output;  // what the child wrote to stdout and stderr
};

// Runs `body` in a forked child with its stdout and stderr going to a pipe. A body that returns
// makes the child exit 0; one still running after a minute is ended by SIGALRM.
template <class Body>
ChildEnd run_in_child(Body body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  // Nothing buffered before the fork may be written twice.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::alarm(60);  // a fault handled by returning would run again forever: end the child instead
    body();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  ChildEnd end;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    end.output.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);
  while (::waitpid(pid, &end.status, 0) < 0 && errno == EINTR) {
  }
  return end;
}

// How the child ended and what it wrote, for failure messages.
std::string describe(const ChildEnd& end) {
  std::string how = "status " + std::to_string(end.status);
  if (WIFEXITED(end.status)) how = "exited with " + std::to_string(WEXITSTATUS(end.status));
  if (WIFSIGNALED(end.status)) how = "killed by signal " + std::to_string(WTERMSIG(end.status));
  return "child " + how + ", output:\n" + end.output;
}

bool exited_with(const ChildEnd& end, int code) {
  return WIFEXITED(end.status) && WEXITSTATUS(end.status) == code;
}

bool killed_by(const ChildEnd& end, int signal) {
  return WIFSIGNALED(end.status) && WTERMSIG(end.status) == signal;
}

bool mentions(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// A host read of the tensor's first element, which the compiler must not leave out.
float read_first(const Tensor& t) {
  const volatile float* first = t.data<float>();
  return first[0];
}

// Checks that a host read of `t` in a child is caught: exit 70 and the message.
void check_host_read_is_caught(const Tensor& t) {
  const ChildEnd end = run_in_child([&] { read_first(t); });
  INFO(describe(end));
  CHECK(exited_with(end, kHostTouchedDeviceExitCode));
  CHECK(mentions(end.output, "touched device memory"));
  CHECK(mentions(end.output, "Kernels::copy"));
}

}  // namespace

TEST_CASE("the fenced device's kernels compute as the CPU kernels") {
  FencedDevice device = make_device();
  Tensor a = Tensor::empty({2, 3}, DType::f32, device.allocator);
  Tensor b = Tensor::empty({3, 2}, DType::f32, device.allocator);
  Tensor product = Tensor::empty({2, 2}, DType::f32, device.allocator);
  CHECK(a.device() == Device::cpu());
  CHECK(device.kernels->device() == Device::cpu());

  std::vector<float> a_host = {1, 2, 3, 4, 5, 6};
  std::vector<float> b_host = {7, 8, 9, 10, 11, 12};
  device.kernels->copy(host_view(a_host, {2, 3}), a);
  device.kernels->copy(host_view(b_host, {3, 2}), b);
  std::vector<float> a_back(6, -1.0f);
  device.kernels->copy(a, host_view(a_back, {2, 3}));
  CHECK(a_back == a_host);
  CHECK(device.kernels->sum_squares(a) == doctest::Approx(91.0));

  device.kernels->matmul(a, false, b, false, product);
  std::vector<float> product_host(4, -1.0f);
  device.kernels->copy(product, host_view(product_host, {2, 2}));
  CHECK(product_host == std::vector<float>{58, 64, 139, 154});

  device.kernels->fill(a, 0.5f);
  std::vector<float> filled_host(6, 0.0f);
  device.kernels->copy(a, host_view(filled_host, {2, 3}));
  CHECK(filled_host == std::vector<float>(6, 0.5f));

  // Large enough for the kernels' OpenMP loops to split it over threads: the workers run inside
  // the call, while the arena is open.
  Tensor big = Tensor::empty({1 << 20}, DType::f32, device.allocator);
  device.kernels->fill(big, 2.0f);
  CHECK(device.kernels->sum_squares(big) == doctest::Approx(4.0 * (1 << 20)));
}

TEST_CASE("the fenced device runs the block-attention kernels as the CPU does") {
  FencedDevice device = make_device();
  auto cpu = make_cpu_kernels(2);
  // Queries at 0-3, keys at 2-5: rows 0 and 1 see no key, rows 2 and 3 some (masked pairs).
  TokenPositions queries{}, keys{};
  queries.runs = keys.runs = 1;
  queries.length[0] = keys.length[0] = 4;
  keys.start[0] = 2;
  std::vector<float> qkv_host(4 * 12);
  for (std::size_t i = 0; i < qkv_host.size(); ++i) qkv_host[i] = 0.25f * float(i % 7) - 0.5f;
  std::vector<float> out_cpu(16), lse_cpu(8), out_fenced(16), lse_fenced(8), q_host(16),
      kv_host(32);
  Tensor qkv = Tensor::empty({4, 12}, DType::f32, device.allocator);
  Tensor q = Tensor::empty({1, 4, 4}, DType::f32, device.allocator);
  Tensor kv = Tensor::empty({1, 4, 8}, DType::f32, device.allocator);
  Tensor out = Tensor::empty({1, 4, 4}, DType::f32, device.allocator);
  Tensor lse = Tensor::empty({1, 2, 4}, DType::f32, device.allocator);
  device.kernels->copy(host_view(qkv_host, {4, 12}), qkv);
  device.kernels->copy_columns(qkv, 0, q.view({4, 4}), 0, 4);
  device.kernels->copy_columns(qkv, 4, kv.view({4, 8}), 0, 8);
  device.kernels->attention_block_forward(q, kv, queries, keys, 2, out, lse, false);
  device.kernels->copy(q, host_view(q_host, {1, 4, 4}));
  device.kernels->copy(kv, host_view(kv_host, {1, 4, 8}));
  device.kernels->copy(out, host_view(out_fenced, {1, 4, 4}));
  device.kernels->copy(lse, host_view(lse_fenced, {1, 2, 4}));
  cpu->attention_block_forward(host_view(q_host, {1, 4, 4}), host_view(kv_host, {1, 4, 8}), queries,
                               keys, 2, host_view(out_cpu, {1, 4, 4}),
                               host_view(lse_cpu, {1, 2, 4}), false);
  CHECK(out_fenced == out_cpu);
  CHECK(lse_fenced == lse_cpu);
  CHECK(q_host[5] == qkv_host[12 + 1]);  // row 1, column 1
  CHECK(kv_host[8 + 2] == qkv_host[12 + 4 + 2]);
}

TEST_CASE("the fenced device runs the LLaMA-block kernels as the CPU does") {
  FencedDevice device = make_device();
  auto cpu = make_cpu_kernels(2);
  const std::int64_t n = 6, c = 8;
  auto values = [](std::size_t count, float step) {
    std::vector<float> v(count);
    for (std::size_t i = 0; i < count; ++i) v[i] = step * float(i % 11) - 1.25f;
    return v;
  };
  // Host inputs; each kernel runs on fenced copies and on the host ones, and must agree exactly.
  std::vector<float> x_host = values(n * c, 0.25f), w_host = values(c, 0.125f),
                     dout_host = values(n * c, 0.5f);
  auto on_device = [&](std::vector<float>& host, const Shape& shape) {
    Tensor t = Tensor::empty(shape, DType::f32, device.allocator);
    device.kernels->copy(host_view(host, shape), t);
    return t;
  };
  auto back = [&](const Tensor& t) {
    std::vector<float> host(static_cast<std::size_t>(t.numel()));
    device.kernels->copy(t, host_view(host, t.shape()));
    return host;
  };

  // RMSNorm forward and backward (dw accumulates onto zeros).
  Tensor x = on_device(x_host, {n, c}), w = on_device(w_host, {c});
  Tensor dout = on_device(dout_host, {n, c});
  Tensor out = Tensor::empty({n, c}, DType::f32, device.allocator);
  Tensor rstd = Tensor::empty({n}, DType::f32, device.allocator);
  Tensor dx = Tensor::empty({n, c}, DType::f32, device.allocator);
  Tensor dw = Tensor::empty({c}, DType::f32, device.allocator);
  device.kernels->fill(dw, 0.0f);
  device.kernels->rmsnorm_forward(x, w, 1e-5f, out, rstd);
  device.kernels->rmsnorm_backward(dout, x, w, rstd, dx, dw);
  std::vector<float> out_cpu(n * c), rstd_cpu(n), dx_cpu(n * c), dw_cpu(c, 0.0f);
  cpu->rmsnorm_forward(host_view(x_host, {n, c}), host_view(w_host, {c}), 1e-5f,
                       host_view(out_cpu, {n, c}), host_view(rstd_cpu, {n}));
  cpu->rmsnorm_backward(host_view(dout_host, {n, c}), host_view(x_host, {n, c}),
                        host_view(w_host, {c}), host_view(rstd_cpu, {n}), host_view(dx_cpu, {n, c}),
                        host_view(dw_cpu, {c}));
  CHECK(back(out) == out_cpu);
  CHECK(back(rstd) == rstd_cpu);
  CHECK(back(dx) == dx_cpu);
  CHECK(back(dw) == dw_cpu);

  // SwiGLU on x as gate_up [n, 2 * (c / 2)].
  const std::int64_t f = c / 2;
  Tensor swi = Tensor::empty({n, f}, DType::f32, device.allocator);
  Tensor dswi = Tensor::empty({n, f}, DType::f32, device.allocator);
  Tensor dgate_up = Tensor::empty({n, c}, DType::f32, device.allocator);
  std::vector<float> dswi_host = values(n * f, 0.375f);
  device.kernels->copy(host_view(dswi_host, {n, f}), dswi);
  device.kernels->swiglu_forward(x, swi);
  device.kernels->swiglu_backward(x, dswi, dgate_up);
  std::vector<float> swi_cpu(n * f), dgate_up_cpu(n * c);
  cpu->swiglu_forward(host_view(x_host, {n, c}), host_view(swi_cpu, {n, f}));
  cpu->swiglu_backward(host_view(x_host, {n, c}), host_view(dswi_host, {n, f}),
                       host_view(dgate_up_cpu, {n, c}));
  CHECK(back(swi) == swi_cpu);
  CHECK(back(dgate_up) == dgate_up_cpu);

  // Rotary positions in place on x as [2, 3, 8]: one head of 6 from column 1, tokens at 4, 5, 0.
  TokenPositions at{};
  at.runs = 2;
  at.start[0] = 4, at.length[0] = 2, at.start[1] = 0, at.length[1] = 1;
  Tensor q = x.view({2, 3, c});
  device.kernels->rope(q, 1, 1, 6, at, 10000.0, false);
  std::vector<float> q_cpu = x_host;
  cpu->rope(host_view(q_cpu, {2, 3, c}), 1, 1, 6, at, 10000.0, false);
  CHECK(back(x) == q_cpu);
  CHECK(q_cpu != x_host);
}

TEST_CASE("host code touching fenced memory outside a kernel call ends the process") {
  FencedDevice device = make_device();
  Tensor t = Tensor::empty({16}, DType::f32, device.allocator);
  device.kernels->fill(t, 1.0f);  // opened and closed again

  SUBCASE("a read") {
    check_host_read_is_caught(t);
  }
  SUBCASE("a write") {
    const ChildEnd end = run_in_child([&] {
      volatile float* elements = t.data<float>();  // volatile: a store the compiler must keep
      elements[3] = 2.0f;
    });
    INFO(describe(end));
    CHECK(exited_with(end, kHostTouchedDeviceExitCode));
    CHECK(mentions(end.output, "touched device memory"));
  }
  SUBCASE("a block freed and handed out again") {
    void* block = t.data_ptr();
    t = Tensor();
    Tensor again = Tensor::empty({16}, DType::f32, device.allocator);
    REQUIRE(again.data_ptr() == block);
    check_host_read_is_caught(again);
  }
}

TEST_CASE("faults outside the fenced arena still crash as before") {
  FencedDevice device = make_device();
  Tensor t = Tensor::empty({16}, DType::f32, device.allocator);
  device.kernels->fill(t, 1.0f);

  SUBCASE("a write through a null pointer") {
    const ChildEnd end = run_in_child(write_through_null);
    INFO(describe(end));
    CHECK(killed_by(end, SIGSEGV));
    CHECK_FALSE(mentions(end.output, "touched device memory"));
  }
  SUBCASE("a read of a protected page that is not the arena") {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(page != MAP_FAILED);
    const ChildEnd end = run_in_child([&] { (void)*static_cast<volatile int*>(page); });
    ::munmap(page, 4096);
    INFO(describe(end));
    CHECK(killed_by(end, SIGSEGV));
    CHECK_FALSE(mentions(end.output, "touched device memory"));
  }
  SUBCASE("a SIGSEGV sent, not a fault") {
    const ChildEnd end = run_in_child([] { std::raise(SIGSEGV); });
    INFO(describe(end));
    CHECK(killed_by(end, SIGSEGV));
    CHECK_FALSE(mentions(end.output, "touched device memory"));
  }
}

TEST_CASE("a kernel that throws leaves the fenced arena closed") {
  FencedDevice device = make_device();
  Tensor t = Tensor::empty({16}, DType::f32, device.allocator);
  std::vector<float> host(8, 0.0f);
  CHECK_THROWS_AS(device.kernels->copy(host_view(host, {8}), t), Error);
  check_host_read_is_caught(t);
}

TEST_CASE("the fenced allocator counts, aligns, reuses and runs out") {
  constexpr std::size_t kSmallArena = std::size_t{1} << 20;
  FencedDevice device = make_device(kSmallArena);
  const std::shared_ptr<Allocator>& allocator = device.allocator;
  CHECK(allocator->device() == Device::cpu());

  // 1000 floats are 4000 bytes, a block of 4032 (64-byte multiples).
  Tensor a = Tensor::empty({1000}, DType::f32, allocator);
  CHECK(allocator->current_bytes() == 4000);
  CHECK(allocator->peak_bytes() == 4000);
  CHECK(allocator->reserved_bytes() == 4032);
  CHECK(allocator->device_allocations() == 1);

  Tensor odd = Tensor::empty({3}, DType::f32, allocator);  // 12 bytes
  Tensor after_odd = Tensor::empty({5}, DType::f32, allocator);
  CHECK(reinterpret_cast<std::uintptr_t>(odd.data_ptr()) % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(after_odd.data_ptr()) % 64 == 0);
  CHECK(allocator->current_bytes() == 4000 + 12 + 20);
  const std::size_t reserved = allocator->reserved_bytes();
  CHECK(reserved == 4032 + 64 + 64);

  // Freed blocks are kept for reuse: the same size again takes nothing new from the arena.
  void* a_block = a.data_ptr();
  a = Tensor();
  CHECK(allocator->current_bytes() == 32);
  CHECK(allocator->peak_bytes() == 4032);
  CHECK(allocator->reserved_bytes() == reserved);
  Tensor a_again = Tensor::empty({1000}, DType::f32, allocator);
  CHECK(a_again.data_ptr() == a_block);
  CHECK(allocator->reserved_bytes() == reserved);
  CHECK(allocator->device_allocations() == 3);
  // Another size does.
  Tensor other = Tensor::empty({2000}, DType::f32, allocator);
  CHECK(allocator->reserved_bytes() == reserved + 8000);
  CHECK(allocator->device_allocations() == 4);

  // More than is left: an Error naming what was asked, what is held and the arena's size.
  try {
    Tensor too_big =
        Tensor::empty({static_cast<std::int64_t>(kSmallArena / 4)}, DType::f32, allocator);
    FAIL("allocating past the arena's end did not throw");
  } catch (const Error& error) {
    const std::string message = error.what();
    INFO(message);
    CHECK(mentions(message, "asked for 1048576 bytes"));
    CHECK(mentions(message, "tensors hold 12032 bytes"));
    CHECK(mentions(message, "arena size 1048576 bytes"));
  }
  // The failed request changed nothing.
  CHECK(allocator->current_bytes() == 12032);
  CHECK(allocator->reserved_bytes() == reserved + 8000);
  Tensor fits = Tensor::empty({1000}, DType::f32, allocator);
  CHECK(allocator->reserved_bytes() == reserved + 8000 + 4032);
}

TEST_CASE("fenced arenas are given back when their allocator goes") {
  std::shared_ptr<Kernels> kernels;
  // More devices, one after another, than arenas can be registered at once.
  for (int round = 0; round < 100; ++round) {
    FencedDevice device = make_device(std::size_t{1} << 30);
    Tensor t = Tensor::empty({4}, DType::f32, device.allocator);
    device.kernels->fill(t, 1.0f);
    kernels = device.kernels;
  }
  // The kernels outlive their arena; on host tensors they still work.
  std::vector<float> host(4, 0.0f);
  kernels->fill(host_view(host, {4}), 3.0f);
  CHECK(host == std::vector<float>(4, 3.0f));
}

TEST_CASE("make_fenced_device checks what it is given") {
  CHECK_THROWS_AS(make_fenced_device(nullptr, kArenaBytes), Error);
  CHECK_THROWS_AS(make_fenced_device(make_cpu_kernels(2), 0), Error);
}
