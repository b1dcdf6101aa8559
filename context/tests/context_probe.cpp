// context_probe: a context plugin on a real context group, started by trellis-run like a training
// run (trellis-run -n 4 --mpirun -- context_probe --mode ring --backend mpi --plugins DIR). Every
// rank makes the same random qkv and dout for B whole sequences (one seed), takes its
// ContextChunks share of the tokens, and runs the plugin (made through the registry) forward and
// backward. The proof that the plugin computes causal attention over whole sequences:
//   - out and dqkv of the rank's tokens against attention_forward / attention_backward of the
//     whole sequences on one rank: for ring and allgather within the sum of two float32 bounds
//     (tests/numerics/attention_bound.h), that of the blocks merged c - 1 times and that of the
//     whole-sequence kernel, each run being within its own of the exact values; with --exact
//     (a2a, which runs the very same kernel per head) bit for bit;
//   - a forward-only call (keep = false) returns no stash and writes the same out;
//   - the trace has the mode's slices, and for ring each transfer is posted before the compute it
//     overlaps and completes after it (the gradient's one step behind its block).
// Exit 1 with a line per failure.
//
// Options: --mode ring|allgather|a2a --backend NAME --plugins DIR [--exact], the shapes --batch
// --seq --heads --channels, --seed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "attention_bound.h"
#include "error_bound.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
namespace numerics = trellis::test::numerics;

namespace {

struct Args {
  std::string mode, backend = "mpi", plugins;
  bool exact = false;
  std::int64_t batch = 2, seq = 32, heads = 4, channels = 32;
  std::uint64_t seed = 7;
};

Args parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::int64_t*> numbers = {
      {"--batch", &a.batch}, {"--seq", &a.seq}, {"--heads", &a.heads}, {"--channels", &a.channels}};
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw InputError(key + " needs a value");
      return argv[++i];
    };
    if (key == "--mode") {
      a.mode = value();
    } else if (key == "--backend") {
      a.backend = value();
    } else if (key == "--plugins") {
      a.plugins = value();
    } else if (key == "--exact") {
      a.exact = true;
    } else if (key == "--seed") {
      a.seed = std::stoull(value());
    } else if (auto it = numbers.find(key); it != numbers.end()) {
      *it->second = std::stoll(value());
    } else {
      throw InputError("context_probe: unknown argument " + key);
    }
  }
  if (a.mode.empty() || a.plugins.empty()) {
    throw InputError("context_probe: --mode and --plugins are required");
  }
  return a;
}

// The slices a plugin records, in order.
class RecordingTrace final : public ContextTrace {
 public:
  struct Slice {
    std::string name;
    double start, end;
    std::int64_t bytes;
  };
  double now_us() const override {
    return std::chrono::duration<double, std::micro>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void compute(std::string_view name, double start, double end) override {
    compute_.push_back({std::string(name), start, end, 0});
  }
  void communication(std::string_view name, double start, double end, std::int64_t bytes) override {
    communication_.push_back({std::string(name), start, end, bytes});
  }
  // The slice called `name`, or null.
  const Slice* find(const std::string& name) const {
    for (const auto* list : {&compute_, &communication_})
      for (const Slice& s : *list)
        if (s.name == name) return &s;
    return nullptr;
  }
  std::size_t computes() const { return compute_.size(); }
  std::size_t communications() const { return communication_.size(); }
  void clear() {
    compute_.clear();
    communication_.clear();
  }

 private:
  std::vector<Slice> compute_, communication_;
};

Tensor random_tensor(const Shape& shape, std::mt19937& rng, const std::shared_ptr<Allocator>& a) {
  Tensor t = Tensor::empty(shape, DType::f32, a);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

Tensor filled(const Shape& shape, float value, const std::shared_ptr<Allocator>& a) {
  Tensor t = Tensor::empty(shape, DType::f32, a);
  std::fill_n(t.data<float>(), t.numel(), value);
  return t;
}

std::vector<float> values(const Tensor& t) {
  return {t.data<float>(), t.data<float>() + t.numel()};
}

// The positions a rank holds, in its order.
std::vector<std::int64_t> positions_list(const TokenPositions& at) {
  std::vector<std::int64_t> list;
  for (int r = 0; r < at.runs; ++r)
    for (std::int64_t i = 0; i < at.length[r]; ++i) list.push_back(at.start[r] + i);
  return list;
}

// The elements of whole[B, T, W] (a tensor or a per-element vector) at the listed positions, as
// rows [B, n, W].
template <class T>
std::vector<T> rows_at(const T* whole, std::int64_t B, std::int64_t seq, std::int64_t W,
                       const std::vector<std::int64_t>& at) {
  std::vector<T> rows;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t p : at) {
      const T* row = whole + (b * seq + p) * W;
      rows.insert(rows.end(), row, row + W);
    }
  return rows;
}

struct Checker {
  std::string who;
  int failures = 0;

  void fail(const std::string& what) {
    std::printf("%s: %s\n", who.c_str(), what.c_str());
    ++failures;
  }
  void within(const std::string& what, const std::vector<float>& got,
              const std::vector<float>& want, const std::vector<double>& bound) {
    const numerics::Comparison c = numerics::compare(
        std::span<const float>(got), std::span<const float>(want), std::span<const double>(bound));
    numerics::report("context_probe " + who, what, c);
    if (!c.ok()) fail(what + ": " + c.describe());
  }
  void exact(const std::string& what, const std::vector<float>& got,
             const std::vector<float>& want) {
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
        fail(what + " differs from one rank's at element " + std::to_string(i) + ": " +
             std::to_string(got[i]) + " against " + std::to_string(want[i]));
        return;
      }
    }
  }
  void slice_covers(const RecordingTrace& trace, const std::string& transfer,
                    const std::string& compute) {
    const RecordingTrace::Slice* t = trace.find(transfer);
    const RecordingTrace::Slice* c = trace.find(compute);
    if (t == nullptr || c == nullptr) {
      fail("the trace lacks '" + (t == nullptr ? transfer : compute) + "'");
    } else if (t->start > c->start || t->end < c->end) {
      fail("'" + transfer + "' [" + std::to_string(t->start) + ", " + std::to_string(t->end) +
           "] does not cover '" + compute + "' [" + std::to_string(c->start) + ", " +
           std::to_string(c->end) +
           "]: the transfer was not posted before the compute or not "
           "waited after it");
    }
  }
};

// The ring's transfers overlap its compute: forward and backward, block k's transfer covers
// block k's compute; the gradient of block k leaves after that compute and arrives after the
// next one.
void check_ring_trace(Checker& check, const RecordingTrace& forward, const RecordingTrace& backward,
                      int c, std::int64_t block_bytes) {
  const std::string of_c = "/" + std::to_string(c), of_hops = "/" + std::to_string(c - 1);
  for (int k = 1; k < c; ++k) {
    const std::string step = std::to_string(k);
    check.slice_covers(forward, "ring kv " + step + of_hops, "ring attention " + step + of_c);
    if (const auto* hop = forward.find("ring kv " + step + of_hops);
        hop != nullptr && hop->bytes != block_bytes) {
      check.fail("ring kv " + step + " sent " + std::to_string(hop->bytes) + " bytes, expected " +
                 std::to_string(block_bytes));
    }
    check.slice_covers(backward, "ring kv backward " + step + of_hops,
                       "ring attention backward " + step + of_c);
    const auto* dkv = backward.find("ring dkv " + step + of_c);
    const auto* made = backward.find("ring attention backward " + step + of_c);
    const auto* next = backward.find("ring attention backward " + std::to_string(k + 1) + of_c);
    if (dkv == nullptr || made == nullptr || next == nullptr) {
      check.fail("the backward trace lacks the slices of step " + step);
    } else if (dkv->start < made->end || dkv->end < next->end) {
      check.fail("ring dkv " + step +
                 " is not sent after its block's compute and waited after "
                 "the next block's");
    }
  }
  if (forward.computes() != std::size_t(c) || forward.communications() != std::size_t(c - 1) ||
      backward.computes() != std::size_t(c) ||
      backward.communications() != std::size_t(2 * c - 1)) {
    check.fail("ring trace: " + std::to_string(forward.computes()) + " compute and " +
               std::to_string(forward.communications()) + " transfer slices forward, " +
               std::to_string(backward.computes()) + " and " +
               std::to_string(backward.communications()) + " backward; expected " +
               std::to_string(c) + ", " + std::to_string(c - 1) + ", " + std::to_string(c) +
               " and " + std::to_string(2 * c - 1));
  }
}

// Compute and communication slices each direction: allgather c blocks and one collective, a2a one
// attention between two exchanges.
void check_collective_trace(Checker& check, const std::string& mode, const RecordingTrace& forward,
                            const RecordingTrace& backward, int c) {
  const std::size_t computes = mode == "allgather" ? std::size_t(c) : 1;
  const std::size_t communications = mode == "allgather" ? 1 : 2;
  for (const RecordingTrace* t : {&forward, &backward}) {
    if (t->computes() != computes || t->communications() != communications) {
      check.fail(mode + " trace: " + std::to_string(t->computes()) + " compute and " +
                 std::to_string(t->communications()) + " communication slices, expected " +
                 std::to_string(computes) + " and " + std::to_string(communications));
    }
  }
}

int probe(const Args& a, const PluginRegistry& registry, Communicator& world) {
  const int c = world.size(), rank = world.rank();
  const std::int64_t B = a.batch, T = a.seq, C = a.channels;
  const int NH = static_cast<int>(a.heads);
  std::shared_ptr<Allocator> alloc = make_cpu_allocator();
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);

  // The same sequences on every rank, and one rank's attention over them.
  std::mt19937 rng(static_cast<std::uint32_t>(a.seed));
  const Tensor qkv = random_tensor({B, T, 3 * C}, rng, alloc);
  const Tensor dout = random_tensor({B, T, C}, rng, alloc);
  const Tensor out_whole = filled({B, T, C}, 0.0f, alloc);
  const Tensor probs = filled({B, NH, T, T}, 0.0f, alloc);
  const Tensor dqkv_whole = filled({B, T, 3 * C}, 0.0f, alloc);
  kernels->attention_forward(qkv, NH, out_whole, probs);
  kernels->attention_backward(dout, qkv, probs, NH, dqkv_whole);

  // This rank's tokens.
  const ContextChunks chunks{T, c, rank};
  const std::vector<std::int64_t> mine = positions_list(chunks.positions());
  const std::int64_t Tl = chunks.local_len();
  const Tensor qkv_local = Tensor::empty({B, Tl, 3 * C}, DType::f32, alloc);
  const Tensor dout_local = Tensor::empty({B, Tl, C}, DType::f32, alloc);
  for (auto [from, to, W] : {std::tuple{qkv, qkv_local, 3 * C}, std::tuple{dout, dout_local, C}}) {
    const std::vector<float> rows = rows_at(from.data<float>(), B, T, W, mine);
    std::copy(rows.begin(), rows.end(), to.data<float>());
  }

  RecordingTrace trace;
  Options no_options;
  ContextInit init;
  init.context = &world;
  init.chunks = chunks;
  init.kernels = kernels.get();
  init.allocator = alloc;
  init.trace = &trace;
  init.options = &no_options;
  std::shared_ptr<ContextAttention> attention = registry.make_context(a.mode, init);

  Checker check{a.backend + " " + a.mode + " c=" + std::to_string(c) + " rank " +
                std::to_string(rank)};
  // Every element must be written: NaN where nothing was.
  const Tensor out = filled({B, Tl, C}, std::nanf(""), alloc);
  std::unique_ptr<ContextAttentionStash> stash = attention->forward(qkv_local, NH, out, true);
  const RecordingTrace forward_trace = trace;
  trace.clear();
  if (stash == nullptr) check.fail("forward with keep = true returned no stash");
  const Tensor dqkv = filled({B, Tl, 3 * C}, std::nanf(""), alloc);
  if (stash != nullptr) attention->backward(dout_local, qkv_local, NH, *stash, dqkv);
  const RecordingTrace backward_trace = trace;

  const Tensor out_again = filled({B, Tl, C}, std::nanf(""), alloc);
  if (attention->forward(qkv_local, NH, out_again, false) != nullptr) {
    check.fail("forward with keep = false returned a stash");
  }
  check.exact("out of the forward-only call", values(out_again), values(out));

  const std::vector<float> want_out = rows_at(out_whole.data<float>(), B, T, C, mine);
  const std::vector<float> want_dqkv = rows_at(dqkv_whole.data<float>(), B, T, 3 * C, mine);
  if (a.exact) {
    check.exact("out", values(out), want_out);
    check.exact("dqkv", values(dqkv), want_dqkv);
  } else {
    // Each run within its float32 bound of the exact values: the blocks merged c - 1 times, and
    // the whole-sequence kernel.
    const numerics::AttentionReference ref =
        numerics::attention_reference(values(qkv), values(dout), static_cast<int>(B),
                                      static_cast<int>(T), static_cast<int>(C), NH);
    const numerics::AttentionBounds blocks = numerics::attention_bounds(ref, c - 1);
    const numerics::AttentionBounds whole = numerics::attention_bounds(ref, 0);
    auto both = [&](const std::vector<double>& x, const std::vector<double>& y, std::int64_t W) {
      std::vector<double> sum(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) sum[i] = x[i] + y[i];
      return rows_at(sum.data(), B, T, W, mine);
    };
    check.within("out", values(out), want_out, both(blocks.out, whole.out, C));
    check.within("dqkv", values(dqkv), want_dqkv, both(blocks.dqkv, whole.dqkv, 3 * C));
  }

  if (a.mode == "ring") {
    check_ring_trace(check, forward_trace, backward_trace, c, B * Tl * 2 * C * 4);
  } else {
    check_collective_trace(check, a.mode, forward_trace, backward_trace, c);
  }
  std::printf("%s: %s\n", check.who.c_str(),
              check.failures ? "MISMATCH"
                             : (a.exact ? "same as one rank, bit for bit"
                                        : "same as one rank within the bounds"));
  return check.failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    const RankEnvironment env = RankEnvironment::from_process();
    const PluginRegistry registry = PluginRegistry::discover({{a.plugins, "context_probe"}});
    std::shared_ptr<Communicator> world =
        create_world(registry, a.backend, Options{}, env, std::chrono::seconds(60));
    world->set_timeout(std::chrono::seconds(60));
    return probe(a, registry, *world);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "context_probe: %s\n", e.what());
    return 1;
  }
}
