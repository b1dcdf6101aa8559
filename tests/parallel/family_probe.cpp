// family_probe: a layer family on a real tensor group, every rank one shard, started by
// trellis-run like a training run (e.g. trellis-run -n 4 --mpirun -- family_probe --mode 2d ...).
//
//   --compare   The proof that a family computes what one rank computes: the model is built
//               twice on every rank, by the family under test on the tensor group and by the
//               1d family alone (tensor 1), from the same seed; two microbatches go through both
//               — the family with both in flight, backward split into input and weight parts in
//               another order, a forward-only microbatch in between, and the model cut into two
//               pipeline stages (so the head keeps its own copy of the token table) — and the
//               losses and the gradient of every parameter shard must match one rank's, within
//               twice the float32 bounds of tests/numerics/error_bound.h (each of the two is
//               within one of the exact value): gpt_loss_bound, and gpt_gradient_bound of the
//               parameter's largest gradient. Exit 1 and a line per mismatch if not.
//   --traffic   Counts what the family's tensor, row and column groups move in one training
//               step (forward and backward of each microbatch; see counting_communicator.h) and
//               prints it: one line per rank, or JSON with --json FILE (written by rank 0).
//
// Options: --mode 1d|seq|2d --backend NAME --plugins DIR, the model --vocab --seq --layers
// --heads --hidden --batch (sequences per microbatch) --microbatches, --seed; a mixture of
// experts with --experts E (0: dense) --top-k --moe-every --capacity (the capacity factor); a
// LLaMA-style block (RMSNorm, SwiGLU, rotary positions, no biases, untied head) with --llama,
// --kv-heads (0: heads) and --ffn (the MLP's inner width, 0: Megatron's 8/3 rounding).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "error_bound.h"
#include "json/readable_json.h"
#include "kernels/cpu/cpu_kernels.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "model/model_chunk.h"
#include "model/param_init.h"
#include "model/tensor_box.h"
#include "support/counting_communicator.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"
#include "trellis/rank_groups.h"

using namespace trellis;
namespace numerics = trellis::test::numerics;

namespace {

struct Args {
  std::string mode = "1d", backend = "mpi", plugins, json;
  bool compare = false, traffic = false;
  std::int64_t vocab = 97, seq = 8, layers = 2, heads = 4, hidden = 32, batch = 2, microbatches = 2;
  std::uint64_t seed = 11;
  MoeSettings moe;
  bool llama = false;
  std::int64_t kv_heads = 0, ffn = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::int64_t*> numbers = {{"--vocab", &a.vocab},
                                                  {"--seq", &a.seq},
                                                  {"--layers", &a.layers},
                                                  {"--heads", &a.heads},
                                                  {"--hidden", &a.hidden},
                                                  {"--batch", &a.batch},
                                                  {"--microbatches", &a.microbatches},
                                                  {"--experts", &a.moe.experts},
                                                  {"--top-k", &a.moe.top_k},
                                                  {"--moe-every", &a.moe.every},
                                                  {"--kv-heads", &a.kv_heads},
                                                  {"--ffn", &a.ffn}};
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw InputError(key + " needs a value");
      return argv[++i];
    };
    if (key == "--compare") {
      a.compare = true;
    } else if (key == "--traffic") {
      a.traffic = true;
    } else if (key == "--mode") {
      a.mode = value();
    } else if (key == "--backend") {
      a.backend = value();
    } else if (key == "--plugins") {
      a.plugins = value();
    } else if (key == "--json") {
      a.json = value();
    } else if (key == "--llama") {
      a.llama = true;
    } else if (key == "--capacity") {
      a.moe.capacity_factor = std::stod(value());
    } else if (key == "--seed") {
      a.seed = std::stoull(value());
    } else if (auto it = numbers.find(key); it != numbers.end()) {
      *it->second = std::stoll(value());
    } else {
      throw InputError("family_probe: unknown argument " + key);
    }
  }
  if (a.plugins.empty()) throw InputError("family_probe: --plugins DIR is required");
  if (!a.compare && !a.traffic) throw InputError("family_probe: --compare or --traffic");
  return a;
}

// A model cut into pipeline stages, all on this rank: the stages' layers run one after the other.
struct Model {
  std::shared_ptr<LayerFamily> family;
  std::vector<std::unique_ptr<ModelChunk>> stages;

  Model(const PluginRegistry& registry, const std::string& mode, const LayerFamilyInit& init,
        int stage_count) {
    family = registry.make_layers(mode, init);
    for (int s = 0; s < stage_count; ++s) {
      // No stage but the first holds the embedding: the head keeps its own table when cut.
      stages.push_back(std::make_unique<ModelChunk>(
          *family, chunk_spec(static_cast<int>(init.dims.layers), stage_count, s), nullptr));
    }
  }
  std::vector<Parameter*> parameters() const {
    std::vector<Parameter*> out;
    for (const auto& c : stages)
      for (Parameter* p : c->parameters()) out.push_back(p);
    return out;
  }
  Tensor forward(const Microbatch& mb) {
    Tensor h = mb.tokens;
    for (auto& c : stages) h = c->forward(mb, h);
    return h;
  }
  void backward_input(const Microbatch& mb) {
    Tensor g;
    for (auto it = stages.rbegin(); it != stages.rend(); ++it) g = (*it)->backward_input(mb, g);
  }
  void backward_weight(const Microbatch& mb) {
    for (auto it = stages.rbegin(); it != stages.rend(); ++it) (*it)->backward_weight(mb);
  }
  void backward(const Microbatch& mb) {
    Tensor g;
    for (auto it = stages.rbegin(); it != stages.rend(); ++it) g = (*it)->backward(mb, g);
  }
  // The gradient of `name` on this rank: the sum over the stages holding it (the token table
  // sits on the first stage and, as the head's copy, on the last, as the trainer adds them).
  Tensor gradient(const std::string& name, Kernels& k, const std::shared_ptr<Allocator>& a) const {
    Tensor sum;
    for (Parameter* p : parameters()) {
      if (p->name != name) continue;
      if (!sum.defined()) {
        sum = Tensor::empty(p->grad.shape(), DType::f32, a);
        k.copy(p->grad, sum);
      } else {
        k.accumulate(sum, p->grad);
      }
    }
    return sum;
  }
};

std::vector<Microbatch> make_microbatches(const Args& a, const std::shared_ptr<Allocator>& alloc) {
  // The same tokens on every rank: a fixed generator.
  std::mt19937 rng(static_cast<std::uint32_t>(a.seed));
  std::uniform_int_distribution<std::int32_t> token(0, static_cast<std::int32_t>(a.vocab - 1));
  std::vector<Microbatch> out;
  for (std::int64_t m = 0; m < a.microbatches + 1; ++m) {
    Microbatch mb;
    mb.id = static_cast<int>(m);
    mb.tokens = Tensor::empty({a.batch, a.seq}, DType::i32, alloc);
    mb.targets = Tensor::empty({a.batch, a.seq}, DType::i32, alloc);
    for (std::int64_t i = 0; i < a.batch * a.seq; ++i) {
      mb.tokens.data<std::int32_t>()[i] = token(rng);
      mb.targets.data<std::int32_t>()[i] = token(rng);
    }
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(a.microbatches * a.batch * a.seq));
    mb.aux_loss_scale = static_cast<float>(1.0 / static_cast<double>(a.microbatches));
    out.push_back(mb);
  }
  out.back().training = false;  // the forward-only one
  return out;
}

int compare(const Args& a, const PluginRegistry& registry, LayerFamilyInit init, int rank) {
  Kernels& k = *init.kernels;
  Model parallel(registry, a.mode, init, 2);
  LayerFamilyInit alone = init;
  alone.groups = TensorGroups{};
  Model single(registry, "1d", alone, 1);
  initialize_parameters(parallel.parameters(), a.seed, k);
  initialize_parameters(single.parameters(), a.seed, k);
  for (Parameter* p : parallel.parameters()) k.fill(p->grad, 0.0f);
  for (Parameter* p : single.parameters()) k.fill(p->grad, 0.0f);

  std::vector<Microbatch> mbs = make_microbatches(a, init.allocator);
  const Microbatch& eval = mbs.back();
  const std::size_t train = mbs.size() - 1;
  int failures = 0;
  // The bounds' view of the model: the gradients sum the tokens of every training microbatch.
  const numerics::GptShape shape{init.dims.padded_vocab, init.dims.hidden,
                                 init.dims.heads,        init.dims.layers,
                                 init.dims.seq_len,      a.microbatches * a.batch * a.seq};
  const std::string report_as = "family_probe " + a.backend + " " + a.mode + " tensor" +
                                std::to_string(init.groups.tensor->size()) + " rank " +
                                std::to_string(rank);
  auto check_loss = [&](const char* what, const Microbatch& mb, float got, float want) {
    numerics::Comparison c =
        numerics::compare_scalar(got, want, 2.0 * numerics::gpt_loss_bound(shape, want));
    numerics::report(report_as, std::string(what) + " loss", c);
    if (!c.ok()) {
      std::printf("rank %d: %s loss of microbatch %d is %.7g, one rank's %.7g (%s)\n", rank, what,
                  mb.id, got, want, c.describe().c_str());
      ++failures;
    }
  };
  // The family: every forward first (all microbatches in flight), a forward-only microbatch,
  // then input gradients newest first and weight gradients oldest first.
  std::vector<float> losses;
  for (std::size_t m = 0; m < train; ++m)
    losses.push_back(parallel.forward(mbs[m]).data<float>()[0]);
  const float eval_loss = parallel.forward(eval).data<float>()[0];
  for (std::size_t m = train; m-- > 0;) parallel.backward_input(mbs[m]);
  for (std::size_t m = 0; m < train; ++m) parallel.backward_weight(mbs[m]);
  // One rank: each microbatch forward and backward in turn.
  for (std::size_t m = 0; m < train; ++m) {
    check_loss("training", mbs[m], losses[m], single.forward(mbs[m]).data<float>()[0]);
    single.backward(mbs[m]);
  }
  check_loss("forward-only", eval, eval_loss, single.forward(eval).data<float>()[0]);

  std::size_t compared = 0;
  double worst = 0.0;  // the largest error relative to its bound
  std::vector<std::string> seen;
  for (Parameter* p : parallel.parameters()) {
    if (std::find(seen.begin(), seen.end(), p->name) != seen.end()) continue;
    seen.push_back(p->name);
    Parameter* ref = nullptr;
    for (Parameter* r : single.parameters())
      if (r->name == p->name) ref = r;
    if (ref == nullptr) {
      std::printf("rank %d: %s has no counterpart on one rank\n", rank, p->name.c_str());
      ++failures;
      continue;
    }
    if (!(ref->global_shape == p->global_shape)) {
      std::printf("rank %d: %s is %s here, %s on one rank\n", rank, p->name.c_str(),
                  p->global_shape.str().c_str(), ref->global_shape.str().c_str());
      ++failures;
      continue;
    }
    Tensor got = parallel.gradient(p->name, k, init.allocator);
    const float* whole = ref->grad.data<float>();
    double scale = 0.0;
    for (std::int64_t i = 0; i < ref->grad.numel(); ++i)
      scale = std::max(scale, std::abs(double(whole[i])));
    // This rank's shard against the same elements of one rank's whole gradient.
    std::vector<float> shard, same;
    for_each_box_run(p->global_shape, p->shard_offset, p->grad.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       shard.insert(shard.end(), got.data<float>() + local,
                                    got.data<float>() + local + run);
                       same.insert(same.end(), whole + global, whole + global + run);
                     });
    numerics::Comparison c =
        numerics::compare(shard, same, 2.0 * numerics::gpt_gradient_bound(shape, scale));
    numerics::report(report_as, "grad." + p->name, c);
    worst = std::max(worst, c.worst_ratio);
    if (!c.ok()) {
      std::printf("rank %d: gradient of %s %s at %s: %s\n", rank, p->name.c_str(),
                  p->grad.shape().str().c_str(), p->shard_offset.str().c_str(),
                  c.describe().c_str());
      ++failures;
    }
    ++compared;
  }
  if (compared != single.parameters().size()) {
    std::printf("rank %d: %zu of one rank's %zu parameters have a shard here\n", rank, compared,
                single.parameters().size());
    ++failures;
  }
  std::printf(
      "rank %d: %s: %zu parameters, %zu microbatches: %s (largest gradient error %.2g of its "
      "bound)\n",
      rank, a.mode.c_str(), compared, train, failures ? "MISMATCH" : "same as one rank", worst);
  return failures ? 1 : 0;
}

int traffic(const Args& a, const PluginRegistry& registry, LayerFamilyInit init,
            const std::vector<test::CountingCommunicator*>& counters, Communicator& world) {
  Model model(registry, a.mode, init, 1);
  initialize_parameters(model.parameters(), a.seed, *init.kernels);
  std::vector<Microbatch> mbs = make_microbatches(a, init.allocator);
  for (auto* c : counters) c->reset();
  for (std::int64_t m = 0; m < a.microbatches; ++m) {
    model.forward(mbs[static_cast<std::size_t>(m)]);
    model.backward(mbs[static_cast<std::size_t>(m)]);
  }
  // Per rank: bus bytes and calls of each operation, over the tensor, row and column groups.
  constexpr int kOps = test::CountingCommunicator::kOps;
  const int n = 2 * kOps;
  Tensor mine = Tensor::empty({n}, DType::f32, init.allocator);
  for (int op = 0; op < kOps; ++op) {
    double bytes = 0, calls = 0;
    for (auto* c : counters) {
      bytes += c->bus_bytes(static_cast<test::CountingCommunicator::Op>(op));
      calls += static_cast<double>(c->calls(static_cast<test::CountingCommunicator::Op>(op)));
    }
    mine.data<float>()[op] = static_cast<float>(bytes);
    mine.data<float>()[kOps + op] = static_cast<float>(calls);
  }
  Tensor all = Tensor::empty({world.size() * n}, DType::f32, init.allocator);
  world.all_gather(mine, all)->wait();
  if (world.rank() != 0) return 0;
  trellis::json::Document ranks = trellis::json::Document::array();
  for (int r = 0; r < world.size(); ++r) {
    const float* v = all.data<float>() + r * n;
    double total = 0;
    trellis::json::Document rank = {
        {"rank", r}, {"mode", a.mode}, {"tensor", world.size()}, {"bus_bytes", 0}};
    for (int op = 0; op < kOps; ++op) {
      total += v[op];
      rank[test::CountingCommunicator::op_name(static_cast<test::CountingCommunicator::Op>(op))] = {
          {"bus_bytes", static_cast<long long>(v[op])},
          {"calls", static_cast<long long>(v[kOps + op])}};
    }
    rank["bus_bytes"] = static_cast<long long>(total);
    ranks.push_back(std::move(rank));
    std::printf("rank %d: %s tensor %d: %.0f bus bytes per step\n", r, a.mode.c_str(), world.size(),
                total);
  }
  if (!a.json.empty()) std::ofstream(a.json) << trellis::json::readable_text(ranks);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    const RankEnvironment env = RankEnvironment::from_process();
    const PluginRegistry registry = PluginRegistry::discover({{a.plugins, "family_probe"}});
    std::shared_ptr<Communicator> world =
        create_world(registry, a.backend, Options{}, env, std::chrono::seconds(60));
    ParallelSizes sizes;
    sizes.tensor = world->size();
    RankGroups groups = make_rank_groups(world, ParallelLayout(sizes));

    // The family sees the groups through counters.
    test::CountingCommunicator tensor(groups.tensor.get());
    std::unique_ptr<test::CountingCommunicator> row, col;
    std::vector<test::CountingCommunicator*> counters = {&tensor};
    if (groups.tensor_row) {
      row = std::make_unique<test::CountingCommunicator>(groups.tensor_row.get());
      col = std::make_unique<test::CountingCommunicator>(groups.tensor_col.get());
      counters.push_back(row.get());
      counters.push_back(col.get());
    }
    std::shared_ptr<Allocator> allocator = make_cpu_allocator();
    std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
    LayerFamilyInit init;
    init.dims.vocab_size = a.vocab;
    init.dims.padded_vocab = (a.vocab + 127) / 128 * 128;
    init.dims.seq_len = a.seq;
    init.dims.max_seq_len = a.seq;
    init.dims.layers = a.layers;
    init.dims.heads = a.heads;
    init.dims.hidden = a.hidden;
    init.groups = TensorGroups{&tensor, row.get(), col.get()};
    init.allocator = allocator;
    init.kernels = kernels.get();
    init.micro_batch = static_cast<int>(a.batch);
    init.seed = a.seed;
    init.moe = a.moe;
    init.arch = ModelArchitecture::gpt2(a.hidden, a.heads);
    if (a.llama) {
      init.arch.norm = ModelArchitecture::Norm::rmsnorm;
      init.arch.mlp = ModelArchitecture::Mlp::swiglu;
      init.arch.ffn_hidden = a.ffn > 0 ? a.ffn : (4 * a.hidden * 2 / 3) / 64 * 64;
      init.arch.positions = ModelArchitecture::Positions::rope;
      init.arch.kv_heads = a.kv_heads > 0 ? a.kv_heads : a.heads;
      init.arch.bias = false;
      init.arch.tie_embeddings = false;
    }
    Options no_options;
    init.options = &no_options;
    int status = 0;
    if (a.compare) status = compare(a, registry, init, world->rank());
    if (a.traffic && status == 0) status = traffic(a, registry, init, counters, *world);
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "family_probe: %s\n", e.what());
    return 1;
  }
}
