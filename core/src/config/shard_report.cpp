#include "config/shard_report.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "kernels/cpu/cpu_kernels.h"
#include "trellis/context_attention.h"
#include "trellis/error.h"
#include "trellis/token_dispatcher.h"

namespace trellis {

namespace {

// A communicator that knows its place in a group and moves nothing: the family is only built,
// never run, and a family that communicated while being built would fail here with the
// backend's "does not support" message.
class LayoutOnlyCommunicator final : public Communicator {
 public:
  LayoutOnlyCommunicator(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "dry-run (no communication)"; }

 private:
  int rank_, size_;
};

// A dispatcher that is never called: the family is only built, as expert rank 0 builds it.
class LayoutOnlyDispatcher final : public TokenDispatcher {
 public:
  DispatchCounts exchange_counts(std::span<const std::int64_t>) override { throw unused(); }
  Tensor dispatch(const DispatchCounts&, const Tensor&) override { throw unused(); }
  Tensor combine(const DispatchCounts&, const Tensor&) override { throw unused(); }

 private:
  static Error unused() { return Error("the dry run's dispatcher moves nothing"); }
};

struct Shard {
  Shape local, offset;
};

// One parameter as every tensor rank holds it.
struct ParameterRow {
  std::string name;  // blocks as "h.*.<rest>"
  Shape whole;
  std::vector<Shard> per_rank;
};

// Blocks 0 and 1 stand for every block (1 only when it differs from 0: dense beside MoE).
std::string block_pattern(const std::string& name) {
  if (name.rfind("h.0.", 0) == 0 || name.rfind("h.1.", 0) == 0) return "h.*." + name.substr(4);
  return name;
}

std::string cell(const Shard& s) {
  return s.local.str() + " @ " + s.offset.str();
}

}  // namespace

std::string format_shards(const ResolvedRun& run) {
  const int tp = run.layout.sizes().tensor;
  const int cp = run.layout.sizes().context;
  const std::string& mode = run.config.parallel.tensor_mode;
  std::ostringstream out;
  out << "Shards (layers " << mode << "; shape @ offset in the whole, per tensor rank"
      << (run.moe.expert_parallel > 1 ? ", as expert rank 0 holds them" : "") << ")\n";
  std::vector<ParameterRow> rows;
  std::vector<Shape> hidden;
  std::vector<std::int64_t> values;  // parameter values per tensor rank, whole model
  std::int64_t moe_blocks = 0;
  for (std::int64_t i = 0; i < run.dims.layers; ++i) moe_blocks += run.moe.is_moe_block(i) ? 1 : 0;
  try {
    if (!run.registry) throw Error("no plugin registry");
    std::shared_ptr<Allocator> allocator = make_cpu_allocator();
    std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
    const bool grid = tp > 1 && TensorGrid::is_square(tp);
    for (int t = 0; t < tp; ++t) {
      LayoutOnlyCommunicator tensor(t, tp);
      LayoutOnlyCommunicator context_group(0, cp);  // outlives the attention made over it
      std::unique_ptr<LayoutOnlyCommunicator> row, col;
      LayerFamilyInit init;
      init.dims = run.dims;
      init.groups.tensor = &tensor;
      if (grid) {
        const TensorGrid g(tp);
        row = std::make_unique<LayoutOnlyCommunicator>(g.col(t), g.q());
        col = std::make_unique<LayoutOnlyCommunicator>(g.row(t), g.q());
        init.groups.row = row.get();
        init.groups.col = col.get();
      }
      init.allocator = allocator;
      init.kernels = kernels.get();
      init.micro_batch = static_cast<int>(run.config.train.micro_batch);
      init.seed = static_cast<std::uint64_t>(run.config.run.seed);
      init.options = &run.layers_options();
      init.moe = run.moe;
      init.arch = run.arch;
      if (run.moe.expert_parallel > 1) init.dispatcher = std::make_shared<LayoutOnlyDispatcher>();
      // Under context parallelism the family is built as context rank 0 sees it: its chunks of
      // each sequence, with the context plugin's attention (made, never called).
      init.chunks = {run.dims.seq_len, cp, 0};
      if (cp > 1) {
        ContextInit context;
        context.context = &context_group;
        context.chunks = init.chunks;
        context.kernels = kernels.get();
        context.allocator = allocator;
        context.options = &run.context_options();
        init.context = &context_group;
        init.context_attention =
            run.registry->make_context(run.config.parallel.context_mode, context);
      }
      // Parameters are allocated, never written: their pages are never touched.
      // Declared before the layers: they go first, while the plugin is still loaded.
      std::shared_ptr<LayerFamily> family = run.registry->make_layers(mode, init);
      hidden.push_back(family->activation_shape());
      // Each layer with the number of its kind in the model: block 0 for the MoE blocks (or
      // every block), block 1 for the dense ones beside them.
      std::vector<std::pair<std::unique_ptr<Layer>, std::int64_t>> layers;
      layers.emplace_back(family->make_embedding(), 1);
      layers.emplace_back(family->make_block(0), moe_blocks > 0 ? moe_blocks : run.dims.layers);
      if (moe_blocks > 0 && moe_blocks < run.dims.layers)
        layers.emplace_back(family->make_block(1), run.dims.layers - moe_blocks);
      layers.emplace_back(family->make_final_norm(), 1);
      layers.emplace_back(family->make_head(layers.front().first.get()), 1);
      std::int64_t count = 0;
      std::size_t index = 0;
      std::set<std::string> listed;
      for (const auto& [layer, copies] : layers) {
        for (Parameter* p : layer->parameters()) {
          count += copies * p->value.numel();
          // The dense block's LayerNorms and attention are the MoE block's rows already.
          if (!listed.insert(block_pattern(p->name)).second) continue;
          if (t == 0) rows.push_back({block_pattern(p->name), p->global_shape, {}});
          if (index >= rows.size() || rows[index].name != block_pattern(p->name)) {
            throw Error("tensor rank " + std::to_string(t) + " has other parameters than rank 0");
          }
          rows[index++].per_rank.push_back({p->value.shape(), p->shard_offset});
        }
      }
      values.push_back(count);
    }
  } catch (const std::exception& e) {
    out << "  not available: the family could not be built here: " << e.what() << "\n";
    return out.str();
  }

  std::string shapes;
  for (int t = 0; t < tp; ++t) {
    if (t == 0 || !(hidden[t] == hidden[0]))
      shapes += (t ? ", rank " + std::to_string(t) + " " : "") + hidden[t].str();
  }
  out << "  hidden states between blocks and stages: " << shapes
      << (run.layout.sizes().context > 1 ? " on context rank 0" : "")
      << " (whole: " << Shape{run.config.train.micro_batch, run.dims.seq_len, run.dims.hidden}.str()
      << ")\n";
  std::string per_rank;
  for (int t = 0; t < tp; ++t) per_rank += (t ? ", " : "") + std::to_string(values[t]);
  out << "  parameter values per tensor rank: " << per_rank << " (blocks "
      << "counted " << run.dims.layers << " times; h.* stands for every block";
  if (moe_blocks > 0 && moe_blocks < run.dims.layers) {
    out << "; h.*.moe.* for the " << moe_blocks << " MoE blocks, h.*.mlp.* for the "
        << run.dims.layers - moe_blocks << " dense ones";
  }
  out << ")\n";

  std::vector<std::string> header = {"parameter", "whole"};
  for (int t = 0; t < tp; ++t) header.push_back("tensor rank " + std::to_string(t));
  std::vector<std::vector<std::string>> table = {header};
  for (const ParameterRow& r : rows) {
    std::vector<std::string> line = {r.name, r.whole.str()};
    const bool replicated = std::all_of(r.per_rank.begin(), r.per_rank.end(),
                                        [&](const Shard& s) { return s.local == r.whole; });
    if (replicated) {
      line.push_back("whole on every rank");
    } else {
      for (const Shard& s : r.per_rank) line.push_back(cell(s));
    }
    table.push_back(line);
  }
  std::vector<std::size_t> width;
  for (const auto& line : table) {
    width.resize(std::max(width.size(), line.size()));
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  for (const auto& line : table) {
    std::string text = " ";
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += " " + line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size(), ' ');
    }
    out << text << "\n";
  }
  return out.str();
}

}  // namespace trellis
