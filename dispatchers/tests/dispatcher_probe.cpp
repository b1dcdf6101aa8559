// dispatcher_probe: a token dispatcher on a real expert group, started by trellis-run like a
// training run (trellis-run -n 4 --mpirun -- dispatcher_probe --dispatcher alltoall --backend mpi
// --plugins DIR). For several rounds every rank draws its rows per expert (one seed per round and
// rank, zeros included: an expert nobody routes to, a rank that sends nothing), fills each row with
// values that name it (source rank, expert, index, channel), and checks, exactly:
//   - exchange_counts: every rank sees every rank's counts;
//   - dispatch: this rank's experts receive every source's rows for them, grouped by local expert
//     and then by source, each source's in the order it sent;
//   - combine(dispatch(x)) == x, and the adjoint identity <combine(y), x> == <y, dispatch(x)>
//     (integers in float: exact), so the backward the MoE MLP builds from the two is right.
// Exit 1 with a line per failure.
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;

namespace {

struct Args {
  std::string dispatcher, backend = "mpi", plugins;
  std::int64_t experts_per_rank = 2, channels = 3, rounds = 6;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw InputError(key + " needs a value");
      return argv[++i];
    };
    if (key == "--dispatcher") {
      a.dispatcher = value();
    } else if (key == "--backend") {
      a.backend = value();
    } else if (key == "--plugins") {
      a.plugins = value();
    } else if (key == "--experts-per-rank") {
      a.experts_per_rank = std::stoll(value());
    } else if (key == "--rounds") {
      a.rounds = std::stoll(value());
    } else {
      throw InputError("dispatcher_probe: unknown argument " + key);
    }
  }
  if (a.dispatcher.empty() || a.plugins.empty()) {
    throw InputError("dispatcher_probe: --dispatcher and --plugins are required");
  }
  return a;
}

// Rank `source`'s rows per expert in round `round`: 0 to 5 each, with the empty cases made sure
// of: in round 1 rank 0 sends nothing, in round 2 the last rank's experts receive nothing, in
// round 3 nobody sends anything.
std::vector<std::int64_t> drawn_counts(int source, int ranks, std::int64_t experts,
                                       std::int64_t round) {
  std::mt19937 gen(static_cast<std::uint32_t>(1000 * round + source));
  std::uniform_int_distribution<int> n(0, 5);
  const std::int64_t per_rank = experts / ranks;
  std::vector<std::int64_t> out(static_cast<std::size_t>(experts));
  for (std::int64_t e = 0; e < experts; ++e) {
    const bool empty =
        (round == 1 && source == 0) || (round == 2 && e / per_rank == ranks - 1) || round == 3;
    out[e] = empty ? 0 : n(gen);
  }
  return out;
}

// The value of channel `ch` of row `i` that `source` sends to `expert`: names the row exactly
// (small integers, exact in float).
float row_value(int source, std::int64_t expert, std::int64_t i, std::int64_t ch) {
  return static_cast<float>(((source * 64 + expert) * 64 + i) * 4 + ch);
}

int probe(const Args& a, const PluginRegistry& registry, Communicator& group) {
  const int ep = group.size(), me = group.rank();
  const std::int64_t E = a.experts_per_rank * ep, C = a.channels;
  std::shared_ptr<Allocator> allocator = make_cpu_allocator();
  std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
  DispatcherInit init;
  init.expert_group = &group;
  init.experts = E;
  init.kernels = kernels.get();
  init.allocator = allocator;
  const Options none;
  init.options = &none;
  std::shared_ptr<TokenDispatcher> dispatcher = registry.make_dispatcher(a.dispatcher, init);
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "rank %d: %s\n", me, what.c_str());
    ++failures;
  };
  for (std::int64_t round = 0; round < a.rounds; ++round) {
    const std::string at = a.dispatcher + " round " + std::to_string(round) + ": ";
    std::vector<std::vector<std::int64_t>> all(static_cast<std::size_t>(ep));
    for (int s = 0; s < ep; ++s) all[s] = drawn_counts(s, ep, E, round);
    const std::vector<std::int64_t>& mine = all[me];
    std::int64_t sent = 0;
    for (std::int64_t n : mine) sent += n;
    Tensor rows = Tensor::empty({sent, C}, DType::f32, allocator);
    float* r = rows.data<float>();
    for (std::int64_t e = 0; e < E; ++e)
      for (std::int64_t i = 0; i < mine[e]; ++i)
        for (std::int64_t ch = 0; ch < C; ++ch) *r++ = row_value(me, e, i, ch);

    const DispatchCounts counts = dispatcher->exchange_counts(mine);
    for (int s = 0; s < ep; ++s)
      for (std::int64_t e = 0; e < E; ++e)
        if (counts.sent_by(s, e) != all[s][e]) fail(at + "exchanged counts differ");

    const Tensor got = dispatcher->dispatch(counts, rows);
    std::vector<float> expected;
    for (std::int64_t l = 0; l < a.experts_per_rank; ++l) {
      const std::int64_t e = me * a.experts_per_rank + l;
      for (int s = 0; s < ep; ++s)
        for (std::int64_t i = 0; i < all[s][e]; ++i)
          for (std::int64_t ch = 0; ch < C; ++ch) expected.push_back(row_value(s, e, i, ch));
    }
    if (got.numel() != static_cast<std::int64_t>(expected.size())) {
      fail(at + "dispatch returned " + got.shape().str() + ", expected " +
           std::to_string(expected.size() / C) + " rows");
      continue;
    }
    const float* g = got.data<float>();
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (g[i] != expected[i]) {
        fail(at + "dispatched element " + std::to_string(i) + " is " + std::to_string(g[i]) +
             ", expected " + std::to_string(expected[i]));
        break;
      }
    }

    const Tensor back = dispatcher->combine(counts, got);
    const float* b = back.data<float>();
    r = rows.data<float>();
    if (back.numel() != rows.numel()) {
      fail(at + "combine returned " + back.shape().str());
      continue;
    }
    for (std::int64_t i = 0; i < rows.numel(); ++i) {
      if (b[i] != r[i]) {
        fail(at + "combine(dispatch(x)) differs from x at element " + std::to_string(i));
        break;
      }
    }

    // Adjointness with a y unlike dispatch's output: <combine(y), x> == <y, dispatch(x)>, summed
    // over the group.
    Tensor y = Tensor::empty(got.shape(), DType::f32, allocator);
    float* yv = y.data<float>();
    for (std::int64_t i = 0; i < y.numel(); ++i) yv[i] = static_cast<float>((i * 7 + me) % 11) - 5;
    const Tensor cy = dispatcher->combine(counts, y);
    double sums[2] = {0, 0};
    for (std::int64_t i = 0; i < rows.numel(); ++i) sums[0] += double(cy.data<float>()[i]) * r[i];
    for (std::int64_t i = 0; i < y.numel(); ++i) sums[1] += double(yv[i]) * g[i];
    Tensor both = Tensor::empty({2}, DType::f32, allocator);
    both.data<float>()[0] = static_cast<float>(sums[0]);
    both.data<float>()[1] = static_cast<float>(sums[1]);
    group.all_reduce(both, both, ReduceOp::sum)->wait();
    if (both.data<float>()[0] != both.data<float>()[1]) {
      fail(at + "<combine(y), x> = " + std::to_string(both.data<float>()[0]) +
           " but <y, dispatch(x)> = " + std::to_string(both.data<float>()[1]));
    }
  }
  if (failures == 0) {
    std::printf("dispatcher_probe %s: rank %d of %d, %lld rounds passed\n", a.dispatcher.c_str(),
                me, ep, static_cast<long long>(a.rounds));
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    const RankEnvironment env = RankEnvironment::from_process();
    const PluginRegistry registry = PluginRegistry::discover({{a.plugins, "dispatcher_probe"}});
    std::shared_ptr<Communicator> world =
        create_world(registry, a.backend, Options{}, env, std::chrono::seconds(60));
    world->set_timeout(std::chrono::seconds(60));
    return probe(a, registry, *world);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dispatcher_probe: %s\n", e.what());
    return 1;
  }
}
