// FencedDevice: an arena allocator whose memory is PROT_NONE outside kernel calls, the kernels
// that open it around each call, and the SIGSEGV handler that turns a host access into a message.
#include "fenced_device.h"

#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "trellis/error.h"

namespace trellis {

namespace {

constexpr std::size_t kBlockAlignment = 64;     // what Allocator promises: SIMD loads, cache lines
constexpr int kHostTouchedDeviceExitCode = 70;  // EX_SOFTWARE: a bug in the program, not its input

// Opening and closing the arena walks the page table entries of every page its tensors have
// touched: measured, 35 ms per kernel call with 2 GiB touched in 4 KiB pages, 80 us in 2 MiB
// transparent huge pages. So the arena is aligned to huge pages, asks for them (MADV_HUGEPAGE),
// and opens and closes whole ones only (changing part of one would split it into small pages).
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

std::size_t round_up(std::size_t bytes, std::size_t multiple) {
  return (bytes + multiple - 1) / multiple * multiple;
}

// ---- what the SIGSEGV handler can see ----
//
// The one piece of process-wide state of the fenced device, and it cannot be avoided: a signal
// handler is called with the fault and nothing else, so the arenas it must recognise have to be
// somewhere it can find them on its own, and it may take no lock and allocate nothing. A fixed
// table of lock-free atomics meets both; arenas take a slot when made and free it when unmapped.
struct ArenaSlot {
  std::atomic<std::uintptr_t> begin{0};  // 0: the slot is free
  std::atomic<std::uintptr_t> end{0};
  std::atomic<bool> open{false};  // a kernel call has the arena open now
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

constexpr int kMaxArenas = 32;
ArenaSlot g_arenas[kMaxArenas];

// The SIGSEGV action installed before ours: faults outside every arena are passed on to it, so
// real crashes (and the crash reporting of test frameworks) behave as they would without us.
struct sigaction g_previous_action {};
// How many threads are passing a fault on now. A previous handler that itself chains back to
// ours would bounce a fault between the two forever; the second time round we take the default
// action instead.
std::atomic<int> g_passing_on{0};
// Guards slot assignment and handler installation (never taken in the handler).
std::mutex g_registry_mutex;

// ---- the handler: async-signal-safe calls only (write, sigaction, raise, _exit) ----

void write_stderr(const char* text, std::size_t length) noexcept {
  while (length > 0) {
    const ssize_t written = ::write(STDERR_FILENO, text, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // nowhere to report to; the exit code still says what happened
    text += written;
    length -= static_cast<std::size_t>(written);
  }
}

void write_stderr(const char* text) noexcept {
  write_stderr(text, std::strlen(text));
}

void write_stderr_address(std::uintptr_t address) noexcept {
  char digits[2 + 2 * sizeof address];
  std::size_t length = 0;
  digits[length++] = '0';
  digits[length++] = 'x';
  bool leading = true;
  for (int shift = 8 * sizeof address - 4; shift >= 0; shift -= 4) {
    const unsigned nibble = (address >> shift) & 0xf;
    if (leading && nibble == 0 && shift > 0) continue;
    leading = false;
    digits[length++] = "0123456789abcdef"[nibble];
  }
  write_stderr(digits, length);
}

[[noreturn]] void report_host_access(std::uintptr_t address, bool arena_open) noexcept {
  if (arena_open) {
    // Every block handed out before the call began is open during it, so the fault lies past
    // them (or, rarely, in a block another thread took since).
    write_stderr("trellis: touched device memory at ");
    write_stderr_address(address);
    write_stderr(
        " beyond every tensor's block during a kernel call (fenced test device): an access out "
        "of a tensor's bounds\n");
  } else {
    write_stderr("trellis: host code touched device memory at ");
    write_stderr_address(address);
    write_stderr(
        " outside a kernel call (fenced test device); the host must stage through "
        "Kernels::copy\n");
  }
  write_stderr(
      "backtrace, innermost first (addr2line -Cfe FILE OFFSET names an entry's function and "
      "line):\n");
  void* frames[64];
  const int depth = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, depth, STDERR_FILENO);
  ::_exit(kHostTouchedDeviceExitCode);
}

// Hands a fault that is not ours to the action installed before ours.
void pass_on(int signal, siginfo_t* info, void* context) noexcept {
  const struct sigaction& previous = g_previous_action;
  const bool sent_by_process = info == nullptr || info->si_code <= 0;  // kill, raise: no fault
  if (g_passing_on.fetch_add(1) == 0) {
    if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(signal, info, context);
      g_passing_on.fetch_sub(1);
      return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
      previous.sa_handler(signal);
      g_passing_on.fetch_sub(1);
      return;
    }
    if (previous.sa_handler == SIG_IGN && sent_by_process) {
      g_passing_on.fetch_sub(1);
      return;  // ignored, as it was before us (a real fault cannot be ignored)
    }
  }
  // The default action: the signal is blocked while this handler runs, so the raised one is
  // delivered, and ends the process, as soon as the handler returns (a fault would also recur
  // when the faulting instruction runs again).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(signal, &default_action, nullptr);
  ::raise(signal);
  g_passing_on.fetch_sub(1);
}

void on_segv(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  // Only faults carry an address (si_code > 0); a SIGSEGV sent with kill or raise does not.
  if (info != nullptr && info->si_code > 0) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (const ArenaSlot& slot : g_arenas) {
      const std::uintptr_t begin = slot.begin.load();
      if (begin != 0 && address >= begin && address < slot.end.load()) {
        report_host_access(address, slot.open.load());
      }
    }
  }
  pass_on(signal, info, context);
  errno = saved_errno;
}

// Installs on_segv unless it is installed already. Called for every arena, not once per process,
// because others replace SIGSEGV handlers too: doctest installs its own around every test case
// and puts back the one it found afterwards, dropping ours. Caller holds g_registry_mutex.
void install_segv_handler() {
  struct sigaction current {};
  if (::sigaction(SIGSEGV, nullptr, &current) != 0) {
    throw Error(std::string("fenced test device: cannot read the SIGSEGV action: ") +
                std::strerror(errno));
  }
  if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_segv) return;
  // backtrace() loads the unwinder on first use, which allocates; do that now, not in a handler.
  void* frame[1];
  ::backtrace(frame, 1);
  g_previous_action = current;  // before ours can run
  struct sigaction ours {};
  ours.sa_sigaction = on_segv;
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK;  // on the alternate stack when someone set one up
  sigemptyset(&ours.sa_mask);
  if (::sigaction(SIGSEGV, &ours, nullptr) != 0) {
    throw Error(std::string("fenced test device: cannot install the SIGSEGV handler: ") +
                std::strerror(errno));
  }
}

int register_arena(std::uintptr_t begin, std::uintptr_t end) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  install_segv_handler();
  for (int index = 0; index < kMaxArenas; ++index) {
    ArenaSlot& slot = g_arenas[index];
    if (slot.begin.load() != 0) continue;
    slot.open.store(false);
    slot.end.store(end);
    slot.begin.store(begin);  // last: a non-zero begin makes the slot visible to the handler
    return index;
  }
  throw Error("fenced test device: more than " + std::to_string(kMaxArenas) +
              " fenced arenas alive at once; let devices go before making new ones");
}

void unregister_arena(int index) noexcept {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  ArenaSlot& slot = g_arenas[index];
  slot.begin.store(0);  // first: the handler no longer matches the range
  slot.end.store(0);
  slot.open.store(false);
}

// ---- the allocator ----

class FencedArena final : public Allocator {
 public:
  explicit FencedArena(std::size_t arena_bytes) : Allocator(Device::cpu()) {
    if (arena_bytes > std::numeric_limits<std::size_t>::max() / 2) {
      throw Error("fenced test device: an arena of " + std::to_string(arena_bytes) +
                  " bytes is more than the address space holds");
    }
    arena_bytes_ = round_up(arena_bytes, static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
    mapped_bytes_ = round_up(arena_bytes_, kHugePageBytes);
    // One huge page more than needed, so that a range aligned to huge pages lies inside; the
    // slack on either side is given back at once.
    const std::size_t reserved_bytes = mapped_bytes_ + kHugePageBytes;
    void* mapping = ::mmap(nullptr, reserved_bytes, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED) {
      throw Error("fenced test device: cannot reserve an arena of " +
                  std::to_string(reserved_bytes) + " bytes: " + std::strerror(errno));
    }
    auto* mapping_begin = static_cast<std::byte*>(mapping);
    std::byte* mapping_end = mapping_begin + reserved_bytes;
    const auto begin_address = reinterpret_cast<std::uintptr_t>(mapping_begin);
    base_ = mapping_begin + (round_up(begin_address, kHugePageBytes) - begin_address);
    if (base_ > mapping_begin) ::munmap(mapping_begin, base_ - mapping_begin);
    if (mapping_end > base_ + mapped_bytes_) {
      ::munmap(base_ + mapped_bytes_, mapping_end - (base_ + mapped_bytes_));
    }
    // Best effort: where transparent huge pages are off, or another size, it is only slower.
    ::madvise(base_, mapped_bytes_, MADV_HUGEPAGE);
    try {
      slot_ = register_arena(reinterpret_cast<std::uintptr_t>(base_),
                             reinterpret_cast<std::uintptr_t>(base_) + mapped_bytes_);
    } catch (...) {
      ::munmap(base_, mapped_bytes_);
      throw;
    }
  }

  // Every tensor holds its allocator, so none is left in the arena now, and every kernel call
  // holds it too (FencedKernels), so none is running.
  ~FencedArena() override {
    unregister_arena(slot_);  // before munmap: the range may be mapped again by someone else
    ::munmap(base_, mapped_bytes_);
  }

  std::size_t reserved_bytes() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return bump_bytes_;
  }
  std::uint64_t device_allocations() const noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    return fresh_blocks_;
  }

  // Makes every block handed out so far readable and writable (in whole huge pages), until the
  // matching close(). Calls nest (and overlap between threads): the arena closes when the last one
  // ends. Blocks handed out while it is open are opened by the next open(), which every kernel
  // call makes.
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::size_t wanted_bytes = round_up(bump_bytes_, kHugePageBytes);
    if (wanted_bytes > open_bytes_) {
      if (::mprotect(base_ + open_bytes_, wanted_bytes - open_bytes_, PROT_READ | PROT_WRITE) !=
          0) {
        throw Error("fenced test device: cannot open the arena for a kernel call (mprotect: " +
                    std::string(std::strerror(errno)) + ")");
      }
      open_bytes_ = wanted_bytes;
    }
    ++open_calls_;
    g_arenas[slot_].open.store(true);
  }

  void close() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--open_calls_ > 0) return;
    g_arenas[slot_].open.store(false);
    if (open_bytes_ == 0) return;
    if (::mprotect(base_, open_bytes_, PROT_NONE) != 0) {
      // An arena left open would let every later host access pass unnoticed, the one thing this
      // device exists to catch, and close() runs in a destructor where nothing can be thrown.
      const char* message =
          "trellis: fenced test device: cannot close the arena after a kernel call (mprotect "
          "failed); stopping rather than letting host accesses pass unnoticed\n";
      write_stderr(message);
      std::abort();
    }
    open_bytes_ = 0;
  }

 protected:
  void* raw_allocate(std::size_t bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bytes <= arena_bytes_) {
      const std::size_t block_bytes = round_up(bytes, kBlockAlignment);
      auto free_list = free_blocks_.find(block_bytes);
      if (free_list != free_blocks_.end() && !free_list->second.empty()) {
        std::byte* block = free_list->second.back();
        free_list->second.pop_back();
        free_bytes_ -= block_bytes;
        return block;  // contents untouched: it stays protected like the rest
      }
      if (block_bytes <= arena_bytes_ - bump_bytes_) {
        std::byte* block = base_ + bump_bytes_;
        bump_bytes_ += block_bytes;
        ++fresh_blocks_;
        return block;
      }
    }
    throw Error("fenced test device out of memory: asked for " + std::to_string(bytes) +
                " bytes, tensors hold " + std::to_string(current_bytes()) +
                " bytes and freed blocks of other sizes " + std::to_string(free_bytes_) +
                ", arena size " + std::to_string(arena_bytes_) +
                " bytes (make_fenced_device's arena_bytes)");
  }

  void raw_deallocate(void* ptr, std::size_t bytes) noexcept override {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::size_t block_bytes = round_up(bytes, kBlockAlignment);
    try {
      free_blocks_[block_bytes].push_back(static_cast<std::byte*>(ptr));
      free_bytes_ += block_bytes;
    } catch (...) {
      // No memory to remember the block: it stays unused in the arena, which goes as a whole.
    }
  }

 private:
  std::size_t arena_bytes_ = 0;   // what blocks may use: the size asked for, in whole pages
  std::size_t mapped_bytes_ = 0;  // arena_bytes_ in whole huge pages: what is mapped and fenced
  std::byte* base_ = nullptr;     // aligned to a huge page
  int slot_ = -1;                 // in g_arenas

  mutable std::mutex mutex_;
  // Blocks are cut from [base_, base_ + bump_bytes_); each is live or in free_blocks_.
  std::size_t bump_bytes_ = 0;
  std::unordered_map<std::size_t, std::vector<std::byte*>> free_blocks_;  // by rounded size
  std::size_t free_bytes_ = 0;
  std::uint64_t fresh_blocks_ = 0;  // blocks cut from the bump pointer
  int open_calls_ = 0;              // kernel calls running with the arena open
  std::size_t open_bytes_ = 0;      // [base_, base_ + open_bytes_) is readable and writable
};

// ---- the kernels ----

// Opens the arena for the lifetime of one kernel call, however the call ends. It holds the arena,
// so the arena outlives the call even if its allocator's last owner lets go meanwhile.
class OpenArena {
 public:
  explicit OpenArena(std::shared_ptr<FencedArena> arena) : arena_(std::move(arena)) {
    if (arena_) arena_->open();
  }
  ~OpenArena() {
    if (arena_) arena_->close();
  }
  OpenArena(const OpenArena&) = delete;
  OpenArena& operator=(const OpenArena&) = delete;

 private:
  std::shared_ptr<FencedArena> arena_;
};

// Runs `call` (one forwarded kernel) with the arena open, and returns what it returns.
template <class Call>
decltype(auto) with_arena_open(const std::weak_ptr<FencedArena>& arena, Call&& call) {
  OpenArena open(arena.lock());
  return call();
}

// Holds the arena weakly: the arena is unmapped when the allocator goes, as any device's memory
// goes with its allocator; later calls (on host tensors only, then) run without opening anything.
class FencedKernels final : public Kernels {
 public:
  FencedKernels(std::shared_ptr<Kernels> inner, std::weak_ptr<FencedArena> arena)
      : inner_(std::move(inner)), arena_(std::move(arena)) {}

  // These two read no tensor memory, so they run without opening the arena.
  Device device() const override { return inner_->device(); }
  int threads() const override { return inner_->threads(); }

  void fill(const Tensor& t, float value) override {
    with_arena_open(arena_, [&] { inner_->fill(t, value); });
  }
  void copy(const Tensor& src, const Tensor& dst) override {
    with_arena_open(arena_, [&] { inner_->copy(src, dst); });
  }
  void add(const Tensor& a, const Tensor& b, const Tensor& out) override {
    with_arena_open(arena_, [&] { inner_->add(a, b, out); });
  }
  void accumulate(const Tensor& dst, const Tensor& src) override {
    with_arena_open(arena_, [&] { inner_->accumulate(dst, src); });
  }
  void scale(const Tensor& t, float factor) override {
    with_arena_open(arena_, [&] { inner_->scale(t, factor); });
  }
  double sum_squares(const Tensor& t) override {
    return with_arena_open(arena_, [&] { return inner_->sum_squares(t); });
  }

  void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
              const Tensor& out, float alpha, float beta) override {
    with_arena_open(arena_,
                    [&] { inner_->matmul(a, transpose_a, b, transpose_b, out, alpha, beta); });
  }

  void linear_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                      const Tensor& out) override {
    with_arena_open(arena_, [&] { inner_->linear_forward(x, w, b, out); });
  }
  void linear_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx,
                       const Tensor& dw, const Tensor& db) override {
    with_arena_open(arena_, [&] { inner_->linear_backward(dout, x, w, dx, dw, db); });
  }

  void layernorm_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& out,
                         const Tensor& mean, const Tensor& rstd) override {
    with_arena_open(arena_, [&] { inner_->layernorm_forward(x, w, b, out, mean, rstd); });
  }
  void layernorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& mean,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dw,
                          const Tensor& db) override {
    with_arena_open(arena_,
                    [&] { inner_->layernorm_backward(dout, x, w, mean, rstd, dx, dw, db); });
  }

  void gelu_forward(const Tensor& x, const Tensor& out) override {
    with_arena_open(arena_, [&] { inner_->gelu_forward(x, out); });
  }
  void gelu_backward(const Tensor& x, const Tensor& dout, const Tensor& dx) override {
    with_arena_open(arena_, [&] { inner_->gelu_backward(x, dout, dx); });
  }

  void attention_forward(const Tensor& qkv, int heads, const Tensor& out,
                         const Tensor& probs) override {
    with_arena_open(arena_, [&] { inner_->attention_forward(qkv, heads, out, probs); });
  }
  void attention_backward(const Tensor& dout, const Tensor& qkv, const Tensor& probs, int heads,
                          const Tensor& dqkv) override {
    with_arena_open(arena_, [&] { inner_->attention_backward(dout, qkv, probs, heads, dqkv); });
  }

  void embedding_forward(const Tensor& tokens, const Tensor& wte, std::int64_t vocab_begin,
                         const Tensor& wpe, const Tensor& out) override {
    with_arena_open(arena_, [&] { inner_->embedding_forward(tokens, wte, vocab_begin, wpe, out); });
  }
  void embedding_backward(const Tensor& tokens, const Tensor& dout, std::int64_t vocab_begin,
                          const Tensor& dwte, const Tensor& dwpe) override {
    with_arena_open(arena_,
                    [&] { inner_->embedding_backward(tokens, dout, vocab_begin, dwte, dwpe); });
  }

  void xent_row_max(const Tensor& logits, std::int64_t vocab_begin, std::int64_t vocab_size,
                    const Tensor& max) override {
    with_arena_open(arena_, [&] { inner_->xent_row_max(logits, vocab_begin, vocab_size, max); });
  }
  void xent_row_stats(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                      std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp,
                      const Tensor& target_logit) override {
    with_arena_open(arena_, [&] {
      inner_->xent_row_stats(logits, targets, vocab_begin, vocab_size, max, sumexp, target_logit);
    });
  }
  double xent_loss_sum(const Tensor& max, const Tensor& sumexp,
                       const Tensor& target_logit) override {
    return with_arena_open(arena_,
                           [&] { return inner_->xent_loss_sum(max, sumexp, target_logit); });
  }
  void xent_backward(const Tensor& logits, const Tensor& targets, std::int64_t vocab_begin,
                     std::int64_t vocab_size, const Tensor& max, const Tensor& sumexp, float scale,
                     const Tensor& dlogits) override {
    with_arena_open(arena_, [&] {
      inner_->xent_backward(logits, targets, vocab_begin, vocab_size, max, sumexp, scale, dlogits);
    });
  }

  void adamw(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
             const AdamWStep& step) override {
    with_arena_open(arena_, [&] { inner_->adamw(param, grad, m, v, step); });
  }

  void layernorm_shard_mean(const Tensor& x, std::int64_t channels, const Tensor& mean) override {
    with_arena_open(arena_, [&] { inner_->layernorm_shard_mean(x, channels, mean); });
  }
  void layernorm_shard_var(const Tensor& x, const Tensor& mean, std::int64_t channels,
                           const Tensor& var) override {
    with_arena_open(arena_, [&] { inner_->layernorm_shard_var(x, mean, channels, var); });
  }
  void layernorm_shard_forward(const Tensor& x, const Tensor& w, const Tensor& b,
                               const Tensor& mean, const Tensor& var, const Tensor& out,
                               const Tensor& rstd) override {
    with_arena_open(arena_,
                    [&] { inner_->layernorm_shard_forward(x, w, b, mean, var, out, rstd); });
  }
  void layernorm_shard_backward_sums(const Tensor& dout, const Tensor& x, const Tensor& w,
                                     const Tensor& mean, const Tensor& rstd, std::int64_t channels,
                                     const Tensor& dsums) override {
    with_arena_open(arena_, [&] {
      inner_->layernorm_shard_backward_sums(dout, x, w, mean, rstd, channels, dsums);
    });
  }
  void layernorm_shard_backward(const Tensor& dout, const Tensor& x, const Tensor& w,
                                const Tensor& mean, const Tensor& rstd, const Tensor& dsums,
                                const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    with_arena_open(arena_, [&] {
      inner_->layernorm_shard_backward(dout, x, w, mean, rstd, dsums, dx, dw, db);
    });
  }
  void attention_block_forward(const Tensor& q, const Tensor& kv, const TokenPositions& q_at,
                               const TokenPositions& k_at, int heads, const Tensor& out,
                               const Tensor& lse, bool merge) override {
    with_arena_open(arena_, [&] {
      inner_->attention_block_forward(q, kv, q_at, k_at, heads, out, lse, merge);
    });
  }
  void attention_block_backward(const Tensor& dout, const Tensor& q, const Tensor& kv,
                                const TokenPositions& q_at, const TokenPositions& k_at, int heads,
                                const Tensor& out, const Tensor& lse, const Tensor& dq,
                                const Tensor& dkv) override {
    with_arena_open(arena_, [&] {
      inner_->attention_block_backward(dout, q, kv, q_at, k_at, heads, out, lse, dq, dkv);
    });
  }
  void copy_columns(const Tensor& src, std::int64_t src_col, const Tensor& dst,
                    std::int64_t dst_col, std::int64_t width) override {
    with_arena_open(arena_, [&] { inner_->copy_columns(src, src_col, dst, dst_col, width); });
  }

  void rmsnorm_forward(const Tensor& x, const Tensor& w, float eps, const Tensor& out,
                       const Tensor& rstd) override {
    with_arena_open(arena_, [&] { inner_->rmsnorm_forward(x, w, eps, out, rstd); });
  }
  void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& rstd,
                        const Tensor& dx, const Tensor& dw) override {
    with_arena_open(arena_, [&] { inner_->rmsnorm_backward(dout, x, w, rstd, dx, dw); });
  }
  void swiglu_forward(const Tensor& gate_up, const Tensor& out) override {
    with_arena_open(arena_, [&] { inner_->swiglu_forward(gate_up, out); });
  }
  void swiglu_backward(const Tensor& gate_up, const Tensor& dout, const Tensor& dgate_up) override {
    with_arena_open(arena_, [&] { inner_->swiglu_backward(gate_up, dout, dgate_up); });
  }
  void rope(const Tensor& x, std::int64_t col, std::int64_t heads, std::int64_t head_dim,
            const TokenPositions& at, double theta, bool inverse) override {
    with_arena_open(arena_, [&] { inner_->rope(x, col, heads, head_dim, at, theta, inverse); });
  }

 private:
  std::shared_ptr<Kernels> inner_;
  std::weak_ptr<FencedArena> arena_;
};

}  // namespace

FencedDevice make_fenced_device(std::shared_ptr<Kernels> inner, std::size_t arena_bytes) {
  if (!inner) throw Error("make_fenced_device needs the kernels to wrap, got none");
  if (inner->device().kind != DeviceKind::cpu) {
    throw Error(
        "make_fenced_device wraps CPU kernels (its arena is host memory), got kernels for " +
        inner->device().str());
  }
  if (arena_bytes == 0) throw Error("make_fenced_device needs an arena of at least one byte");
  auto arena = std::make_shared<FencedArena>(arena_bytes);
  auto kernels = std::make_shared<FencedKernels>(std::move(inner), arena);
  return {std::move(arena), std::move(kernels)};
}

}  // namespace trellis
