#include "train/run_banner.h"

#include <string>

#include "config/model_architecture.h"
#include "train/model_flops.h"

namespace trellis {

namespace {

std::string millions(std::int64_t n) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2fM", static_cast<double>(n) / 1e6);
  return buffer;
}

}  // namespace

void print_run_banner(std::FILE* console, const ResolvedRun& run, const RunBannerFacts& facts) {
  const RunConfig& cfg = run.config;
  const ModelDims& dims = run.dims;
  const ParallelSizes& z = run.layout.sizes();
  // The context group only when it splits the sequences.
  const std::string context = z.context > 1 ? " x context " + std::to_string(z.context) + " (" +
                                                  cfg.parallel.context_mode + ")"
                                            : "";
  std::fprintf(console,
               "trellis: run '%s': %lld steps on %d rank%s (tensor %d x pipeline %d x data %d%s, "
               "%s), %s\n",
               cfg.run.name.c_str(), static_cast<long long>(cfg.run.steps), run.world_size,
               run.world_size == 1 ? "" : "s", z.tensor, z.pipeline, z.data, context.c_str(),
               run.world_size == 1 ? "no communication" : facts.comm_backends.c_str(),
               facts.device_description.c_str());
  std::fprintf(console,
               "model: %s, %lld layers, %lld heads, hidden %lld, vocab %lld (padded %lld), seq "
               "%lld: %s parameters (%s)\n",
               architecture_text(cfg.model.arch, run.arch, dims).c_str(),
               static_cast<long long>(dims.layers), static_cast<long long>(dims.heads),
               static_cast<long long>(dims.hidden), static_cast<long long>(dims.vocab_size),
               static_cast<long long>(dims.padded_vocab), static_cast<long long>(dims.seq_len),
               millions(parameter_count(dims, run.moe, run.arch)).c_str(),
               run.resume_from                            ? "resumed from a checkpoint"
               : run.init.kind == ModelInit::Kind::random ? "random init"
                                                          : run.init.path.c_str());
  if (run.moe.experts > 0) {
    char factor[32];
    std::snprintf(factor, sizeof factor, "factor %g", run.moe.capacity_factor);
    std::fprintf(console,
                 "experts: %lld, top %lld, every %lld block%s, capacity %s: %s parameters active "
                 "per token",
                 static_cast<long long>(run.moe.experts), static_cast<long long>(run.moe.top_k),
                 static_cast<long long>(run.moe.every), run.moe.every == 1 ? "" : "s",
                 run.moe.capacity_factor == 0.0 ? "dropless" : factor,
                 millions(active_parameter_count(dims, run.moe, run.arch)).c_str());
    if (run.moe.expert_parallel > 1) {
      std::fprintf(console, "; expert parallel %lld (%lld experts a rank), %s dispatcher",
                   static_cast<long long>(run.moe.expert_parallel),
                   static_cast<long long>(run.moe.experts / run.moe.expert_parallel),
                   cfg.parallel.expert_dispatcher.c_str());
    }
    std::fprintf(console, "\n");
  }
  const std::int64_t sequences = cfg.train.global_batch;
  if (facts.train_data) {
    const std::string& tokenizer = facts.train_data->text_tokenizer();
    const std::string format = !facts.train_data->is_text() ? "llm.c tokens"
                               : tokenizer == "bytes"       ? "text, byte tokens"
                                                            : "text, " + tokenizer;
    std::fprintf(
        console, "data: %s (%s, %lld tokens): %lld steps per epoch\n", run.train.path.c_str(),
        format.c_str(), static_cast<long long>(facts.train_data->tokens()),
        static_cast<long long>(facts.train_data->batches_per_epoch(sequences, dims.seq_len)));
  }
  std::fprintf(console, "batch: %lld sequences = %lld microbatches of %lld per data rank x %d\n",
               static_cast<long long>(sequences), static_cast<long long>(run.microbatches),
               static_cast<long long>(cfg.train.micro_batch), z.data);
  if (run.recompute.granularity != RecomputeGranularity::none) {
    std::fprintf(console, "recompute: %s\n",
                 describe_recompute(run.recompute, run.layers_per_chunk()).c_str());
  }
  if (cfg.device.memory_limit_mb > 0) {
    std::fprintf(console, "memory limit: %lld MiB a rank\n",
                 static_cast<long long>(cfg.device.memory_limit_mb));
  }
  if (!facts.blas_line.empty()) std::fprintf(console, "%s\n", facts.blas_line.c_str());
  std::fprintf(console, "%s\n", facts.mfu_peak->line().c_str());
}

}  // namespace trellis
