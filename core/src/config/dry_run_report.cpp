#include "config/dry_run_report.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "config/config_schema.h"
#include "config/config_value.h"
#include "config/model_architecture.h"
#include "config/shard_report.h"
#include "tokenizer/byte_tokenizer.h"
#include "trellis/context_attention.h"
#include "trellis/rank_groups.h"
#include "trellis/schedule_grid.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string pad_left(std::string text, std::size_t width) {
  if (text.size() < width) text.insert(0, width - text.size(), ' ');
  return text;
}

// A table printed with each column as wide as its widest cell, up to a limit: a longer cell
// (a long path) overflows its column rather than pushing every row to the right.
class Columns {
 public:
  explicit Columns(std::size_t max_width = 40) : max_width_(max_width) {}
  void row(std::vector<std::string> cells) { rows_.push_back({std::move(cells), false}); }
  // A line printed as it is, between rows (a section heading).
  void line(std::string text) { rows_.push_back({{std::move(text)}, true}); }

  void print(std::ostream& out, const std::string& indent, std::size_t right_aligned = 0) const {
    std::vector<std::size_t> width;
    for (const Row& r : rows_) {
      if (r.raw) continue;
      width.resize(std::max(width.size(), r.cells.size()));
      for (std::size_t i = 0; i < r.cells.size(); ++i) {
        if (r.cells[i].size() <= max_width_) width[i] = std::max(width[i], r.cells[i].size());
      }
    }
    for (const Row& r : rows_) {
      if (r.raw) {
        out << r.cells[0] << "\n";
        continue;
      }
      std::string line = indent;
      for (std::size_t i = 0; i < r.cells.size(); ++i) {
        const bool last = i + 1 == r.cells.size();
        const std::string& cell = r.cells[i];
        line += i < right_aligned ? pad_left(cell, width[i]) : last ? cell : pad(cell, width[i]);
        if (!last) line += "  ";
      }
      out << line << "\n";
    }
  }

 private:
  struct Row {
    std::vector<std::string> cells;
    bool raw;
  };
  std::size_t max_width_;
  std::vector<Row> rows_;
};

void print_config(std::ostream& out, const ResolvedRun& run) {
  out << "Configuration (value, then where it came from; CLI > file > default)\n";
  Columns table;
  std::string_view section;
  for (const KeySpec& key : config_keys()) {
    if (key.section != section) {
      section = key.section;
      table.line("  [" + std::string(section) + "]");
    }
    auto origin = run.origins.find(key.dotted());
    table.row({std::string(key.name), "= " + field_value_text(key.get(run.config)),
               origin == run.origins.end() ? "default" : origin->second.describe()});
  }
  for (const auto& [table_key, options] : run.plugin_options) {
    table.line("  [" + table_key + "]");
    for (const auto& [name, value] : options.values()) {
      auto origin = run.origins.find(table_key + "." + name);
      table.row({name, "= " + option_value_text(value),
                 origin == run.origins.end() ? "" : origin->second.describe()});
    }
  }
  table.print(out, "    ");
}

std::string data_file_text(const DataFile& file, const Tokenizer& tokenizer) {
  std::string text;
  if (file.format == DataFile::Format::llmc_tokens) {
    text = "llm.c token file, " + str(file.tokens) + " tokens";
  } else if (dynamic_cast<const ByteTokenizer*>(&tokenizer) != nullptr) {
    text = "text, " + str(file.tokens) + " bytes = tokens";
  } else {
    text = "text, " + str(file.tokens) + " bytes, encoded when training starts";
  }
  return file.path.string() + " (" + text + ")";
}

void print_layout(std::ostream& out, const ResolvedRun& run) {
  const ParallelSizes& s = run.layout.sizes();
  const RunConfig& c = run.config;
  out << "Layout\n";
  Columns table;
  const bool from_nproc = run.world_origin.kind != Origin::Kind::environment;
  table.row({"world size", str(run.world_size) + " (" +
                               (from_nproc ? "launch.nproc, " + run.world_origin.describe()
                                           : run.world_origin.describe()) +
                               ")"});
  table.row({"sizes", "tensor " + str(s.tensor) + " x context " + str(s.context) + " x data " +
                          str(s.data) + " x pipeline " + str(s.pipeline) + ", rank order " +
                          rank_order_str(run.layout.order()) + " (fastest first)"});
  std::string chunks = str(run.layers_per_stage()) + " of " + str(run.dims.layers);
  if (run.virtual_stages > 1) {
    chunks += " (" + str(run.virtual_stages) + " virtual chunks of " + str(run.layers_per_chunk()) +
              " layers each)";
  }
  table.row({"layers per stage", chunks});
  if (s.context > 1) {
    const ContextChunks cut{run.dims.seq_len, s.context, 0};
    table.row({"context", c.parallel.context_mode + " attention; each sequence cut into " +
                              str(2 * s.context) + " chunks of " + str(cut.chunk_len()) +
                              " tokens, context rank i holds chunks i and " +
                              str(2 * s.context - 1) + " - i (" + str(cut.local_len()) +
                              " tokens of each sequence)"});
  }
  if (run.moe.experts > 0) {
    const std::int64_t ep = run.moe.expert_parallel, E = run.moe.experts, L = E / ep;
    std::string experts = str(E) + " experts a MoE block, top " + str(run.moe.top_k) + "; ";
    if (ep == 1) {
      experts += "every rank holds all of them (expert 1)";
    } else {
      experts += "expert " + str(ep) + ": each expert group (" + str(ep) +
                 " consecutive data ranks) splits them, data rank d holding experts " + "[(d % " +
                 str(ep) + ") x " + str(L) + ", +" + str(L) + "): ";
      for (std::int64_t j = 0; j < ep && j < 8; ++j)
        experts += (j ? ", " : "") + std::string("d % ") + str(ep) + " = " + str(j) + ": " +
                   str(j * L) + "-" + str(j * L + L - 1);
      if (ep > 8) experts += ", ...";
      experts += "; tokens moved by the " + c.parallel.expert_dispatcher +
                 " dispatcher; expert gradients summed over the " + str(s.data / ep) +
                 " ranks of each expert-data group";
    }
    table.row({"experts", experts});
  }
  table.row({"recompute", describe_recompute(run.recompute, run.layers_per_chunk())});
  if (c.device.memory_limit_mb > 0) {
    table.row({"memory limit", str(c.device.memory_limit_mb) +
                                   " MiB a rank ([device] memory_limit_mb): an allocation past it "
                                   "stops the run"});
  }
  table.row({"microbatches", str(run.microbatches) + " per step per data rank (global_batch " +
                                 str(c.train.global_batch) + " = " + str(run.microbatches) +
                                 " x micro_batch " + str(c.train.micro_batch) + " x data " +
                                 str(s.data) + ")"});
  std::string vocab = str(run.dims.padded_vocab) + " (";
  if (run.llmc) {
    vocab += "Vp " + str(run.llmc->padded_vocab) + " of the llm.c checkpoint" +
             (run.llmc->padded_vocab == run.dims.padded_vocab
                  ? ""
                  : ", rounded up to a multiple of tensor " + str(s.tensor)) +
             "; vocab_size " + str(run.dims.vocab_size) + ")";
  } else {
    vocab += "vocab_size " + str(run.dims.vocab_size) + " rounded up to a multiple of " +
             str(std::lcm(std::int64_t{128}, std::int64_t{s.tensor})) + ")";
  }
  table.row({"padded vocab", vocab});
  table.row({"model", "seq_len " + str(run.dims.seq_len) + ", layers " + str(run.dims.layers) +
                          ", heads " + str(run.dims.heads) + ", hidden " + str(run.dims.hidden)});
  table.row({"architecture", architecture_text(c.model.arch, run.arch, run.dims)});
  std::string init = c.model.init;
  if (run.init.kind == ModelInit::Kind::llmc) init = "llm.c checkpoint " + run.init.path.string();
  if (run.init.kind == ModelInit::Kind::checkpoint) init = "checkpoint " + run.init.path.string();
  if (run.init.kind == ModelInit::Kind::hf && run.hf) {
    init = std::string("Hugging Face ") + hf_family_name(run.hf->family) + " " +
           run.init.path.string() + " (config.json, safetensors)";
  }
  if (run.resume_from) {
    init = "resume from " + run.resume_from->string() + " (not " + init + ")";
    if (run.resume_step >= run.config.run.steps) init += "; already complete: nothing to train";
  }
  table.row({"init", init});
  table.row({"tokenizer", run.tokenizer->describe()});
  table.row({"train data", data_file_text(run.train, *run.tokenizer)});
  table.row({"val data", run.val ? data_file_text(*run.val, *run.tokenizer) : "none"});
  table.print(out, "  ");
}

void print_plugins(std::ostream& out, const ResolvedRun& run) {
  out << "Plugins\n";
  Columns table;
  for (const PluginUse& use : run.plugins) {
    std::vector<std::string> row = {plugin_kind_name(use.kind), use.name};
    if (use.used && use.info) {
      row.push_back(use.info->version);
      row.push_back(use.info->file.string());
    } else {
      row.push_back("unused: " + use.unused_reason);
    }
    table.row(std::move(row));
  }
  table.print(out, "  ");
}

// The schedule drawn as ranks x time from its simulation, with the bubble it predicts.
void print_schedule(std::ostream& out, const ResolvedRun& run) {
  if (!run.pipeline_plan || !run.pipeline_simulation) return;
  const SimulationResult& sim = *run.pipeline_simulation;
  const bool split = run.pipeline_plan->splits_backward();
  out << "Schedule " << run.config.parallel.schedule << " (simulated; F = 1, "
      << (split ? "I = 1, W = 1" : "B = 2") << ", no communication time)\n";
  char figures[160];
  std::snprintf(figures, sizeof(figures),
                "  bubble %.1f%% of the compute (idle %.1f%% of the time); makespan %g\n",
                100.0 * sim.bubble_ratio(), 100.0 * sim.idle_fraction(), sim.makespan);
  out << figures << "  activations alive at most:";
  for (std::size_t r = 0; r < sim.peak_activations.size(); ++r) {
    out << (r ? ", " : " ") << "rank " << r << ": " << sim.peak_activations[r];
  }
  out << "\n" << draw_timeline(sim, kDryRunCosts) << "\n";
}

// A context rank's token positions: "[0, 4) [12, 16)".
std::string positions_text(const ContextChunks& chunks) {
  const TokenPositions at = chunks.positions();
  std::string out;
  for (int r = 0; r < at.runs; ++r) {
    out += (r ? " [" : "[") + str(at.start[r]) + ", " + str(at.start[r] + at.length[r]) + ")";
  }
  return out;
}

void print_ranks(std::ostream& out, const ResolvedRun& run) {
  const ParallelLayout& layout = run.layout;
  out << "Ranks (coordinates; groups are world ranks)\n";
  // The context columns only under context parallelism: without it every rank holds whole
  // sequences.
  const int context = layout.sizes().context;
  Columns table;
  std::vector<std::string> header = {"rank", "tp", "cp", "dp", "pp", "tensor group"};
  if (context > 1) header.insert(header.end(), {"context group", "tokens of each sequence"});
  header.insert(header.end(), {"data group", "pipeline group"});
  // Expert parallelism: the experts each rank holds and its two groups (splits of the data group).
  const std::int64_t ep = run.moe.expert_parallel;
  if (ep > 1) header.insert(header.end(), {"experts", "expert group", "expert-data group"});
  table.row(std::move(header));
  for (int rank = 0; rank < layout.world_size(); ++rank) {
    const RankCoords c = layout.coords(rank);
    std::vector<std::string> row = {
        str(rank),   str(c.tensor),   str(c.context),
        str(c.data), str(c.pipeline), format_rank_group(layout.group(rank, {ParallelDim::tensor}))};
    if (context > 1) {
      row.push_back(format_rank_group(layout.group(rank, {ParallelDim::context})));
      row.push_back(positions_text(ContextChunks{run.dims.seq_len, context, c.context}));
    }
    row.push_back(format_rank_group(layout.group(rank, {ParallelDim::data})));
    row.push_back(format_rank_group(layout.group(rank, {ParallelDim::pipeline})));
    if (ep > 1) {
      const std::int64_t L = run.moe.experts / ep, j = c.data % ep;
      row.push_back(str(j * L) + "-" + str(j * L + L - 1));
      for (bool expert_data : {false, true}) {
        row.push_back(format_rank_group(
            expert_group_members(layout, rank, static_cast<int>(ep), expert_data)));
      }
    }
    table.row(std::move(row));
  }
  table.print(out, "  ", 5);
}

}  // namespace

std::string format_rank_group(const std::vector<int>& ranks) {
  const std::size_t n = ranks.size();
  if (n >= 4) {
    const int step = ranks[1] - ranks[0];
    bool regular = step > 0;
    for (std::size_t i = 2; i < n && regular; ++i) regular = ranks[i] - ranks[i - 1] == step;
    if (regular) {
      return "[" + str(ranks[0]) + (step == 1 ? "" : ", " + str(ranks[1])) + ".." +
             str(ranks.back()) + "]";
    }
  }
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? ", " : "") + str(ranks[i]);
  return out + "]";
}

std::string format_dry_run(const ResolvedRun& run) {
  std::ostringstream out;
  out << "trellis-train --dry-run: " << run.config_file << "\n\n";
  print_config(out, run);
  out << "\n";
  print_layout(out, run);
  out << "\n";
  print_plugins(out, run);
  out << "\n";
  print_schedule(out, run);
  out << format_shards(run) << "\n";
  print_ranks(out, run);
  return out.str();
}

}  // namespace trellis
