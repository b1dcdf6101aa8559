// [model] experts, top_k, moe_every, moe_aux_loss_coeff and capacity_factor (trellis/config.h's
// MoeSettings).
#include <string>

#include "checkpoint/manifest.h"
#include "config/config_check.h"

namespace trellis {

namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

constexpr const char* kMoeKeys[] = {"model.top_k", "model.moe_every", "model.moe_aux_loss_coeff",
                                    "model.capacity_factor", "parallel.expert_dispatcher"};

}  // namespace

void check_moe(CheckContext& ctx, ResolvedRun& run) {
  if (!ctx.valid({"model.experts", "model.top_k", "model.moe_every", "model.moe_aux_loss_coeff",
                  "model.capacity_factor"})) {
    return;
  }
  const ModelSection& m = ctx.config().model;
  // init = "checkpoint:DIR": its manifest says which blocks have how many experts.
  if (run.checkpoint_moe) {
    MoeSettings wanted;
    wanted.experts = m.experts;
    wanted.every = m.moe_every;
    for (const std::string& d : moe_differences(*run.checkpoint_moe, wanted)) {
      ctx.problem(ctx.blame({"model.experts", "model.moe_every", "model.init"}),
                  "the checkpoint of model.init is of another model: " + d +
                      "; valid: the [model] experts and moe_every of the run that wrote it");
    }
  }
  if (m.experts == 0) {
    // Set on a dense model they would silently do nothing.
    for (const char* key : kMoeKeys) {
      if (!ctx.explicit_value(key)) continue;
      ctx.problem(key,
                  "applies to a mixture of experts only, and experts is 0 (a dense model); "
                  "valid: remove " +
                      std::string(key) + ", or set model.experts > 0");
    }
    return;
  }
  if (m.top_k > m.experts) {
    ctx.problem(ctx.blame({"model.top_k", "model.experts"}),
                "top_k " + str(m.top_k) + " chooses more experts than the " + str(m.experts) +
                    " there are; valid: top_k 1 to " + str(m.experts) +
                    ", or experts >= " + str(m.top_k));
    return;
  }
  // llm.c's format and Hugging Face's GPT-2 and LLaMA are dense: no router, one MLP per block.
  if (ctx.valid("model.init") && (m.init.starts_with("llmc:") || m.init.starts_with("hf:"))) {
    const bool llama = run.hf && run.hf->family == HfFamily::llama;
    const std::string dense = m.init.starts_with("llmc:")
                                  ? "an llm.c checkpoint holds a dense GPT-2"
                              : llama ? "a Hugging Face LLaMA is dense"
                                      : "a Hugging Face GPT-2 holds a dense GPT-2";
    ctx.problem(ctx.blame({"model.init", "model.experts"}),
                dense + ", and experts is " + str(m.experts) +
                    "; valid: init = \"random\" or \"checkpoint:DIR\" (a Trellis checkpoint "
                    "of this MoE model), or experts = 0");
  }
  if (ctx.valid("model.export") && !m.export_to.empty()) {
    ctx.problem(ctx.blame({"model.export", "model.experts"}),
                "llm.c's format and Hugging Face's GPT-2 and LLaMA hold dense models only, and "
                "experts is " +
                    str(m.experts) +
                    "; valid: export = \"\" (the checkpoints hold the MoE model), or experts = 0");
  }
  if (ctx.valid("logging.sample_every") && ctx.config().logging.sample_every > 0) {
    ctx.problem(ctx.blame({"logging.sample_every", "model.experts"}),
                "samples are written by the dense decoder, and experts is " + str(m.experts) +
                    "; valid: sample_every = 0 with experts");
  }
  const ParallelSection& p = ctx.config().parallel;
  // The router's load statistics and the capacity are per microbatch over whole sequences; a
  // context rank holds chunks of each, and nothing sums them over the context group yet.
  if (ctx.valid("parallel.context") && p.context > 1) {
    ctx.problem(ctx.blame({"parallel.context", "model.experts"}),
                "experts " + str(m.experts) + " with context parallelism " + str(p.context) +
                    " is not supported yet (the router's load-balancing statistics and the "
                    "capacity need whole sequences); valid: context = 1, or experts = 0");
  }
  // The MoE MLP runs its routing and gates as host loops: no CUDA kernels yet.
  if (ctx.valid("device.kind") && ctx.config().device.kind == "cuda") {
    ctx.problem(ctx.blame({"device.kind", "model.experts"}),
                "experts " + str(m.experts) +
                    " run on the CPU only for now (the MoE MLP has no CUDA kernels); valid: "
                    "device.kind = \"cpu\", or experts = 0");
  }
  run.moe.experts = m.experts;
  run.moe.top_k = m.top_k;
  run.moe.every = m.moe_every;
  run.moe.aux_loss_coeff = m.moe_aux_loss_coeff;
  run.moe.capacity_factor = m.capacity_factor;
}

void check_expert_parallel(CheckContext& ctx, const LayoutStatus& layout, ResolvedRun& run) {
  if (!ctx.valid({"parallel.expert", "model.experts"})) return;
  const std::int64_t ep = ctx.config().parallel.expert;
  if (ep == 1) return;
  const std::int64_t experts = ctx.config().model.experts;
  if (experts == 0) {
    ctx.problem(ctx.blame({"parallel.expert", "model.experts"}),
                "expert parallelism " + str(ep) +
                    " splits the experts of a mixture of experts, and experts is 0 (a dense "
                    "model); valid: expert = 1, or model.experts > 0");
    return;
  }
  if (experts % ep != 0) {
    ctx.problem(ctx.blame({"parallel.expert", "model.experts"}),
                "expert parallelism " + str(ep) + " does not divide the " + str(experts) +
                    " experts (each rank of an expert group holds experts / expert of them); "
                    "valid: expert a divisor of " +
                    str(experts));
    return;
  }
  if (!layout.query_ready) return;  // the data size is not known
  const std::int64_t data = run.layout.sizes().data;
  if (data % ep != 0) {
    ctx.problem(ctx.blame({"parallel.expert", "parallel.data"}),
                "expert parallelism " + str(ep) + " does not divide the data size " + str(data) +
                    " (an expert group is " + str(ep) +
                    " data ranks; Megatron-LM's layout); valid: expert a divisor of " + str(data) +
                    ", or a data size that is a multiple of " + str(ep));
    return;
  }
  run.moe.expert_parallel = ep;
}

void check_moe_family(CheckContext& ctx, const ResolvedRun& run) {
  if (run.moe.experts == 0 || !run.registry || !ctx.valid("parallel.tensor_mode")) return;
  const std::string& family = ctx.config().parallel.tensor_mode;
  bool runs = false;
  try {
    runs = run.registry->runs_experts(family);
  } catch (const PluginError&) {
    return;  // an unknown family is reported against parallel.tensor_mode
  }
  if (!runs) {
    ctx.problem(ctx.blame({"model.experts", "parallel.tensor_mode"}),
                "the layers plugin \"" + family +
                    "\" (parallel.tensor_mode) does not run experts yet (its descriptor's "
                    "runs_experts, ABI 2.4, is not set); valid: tensor_mode \"1d\" or \"seq\", "
                    "or experts = 0");
  }
}

}  // namespace trellis
