// The checks that involve more than one key: the model's initialisation, the parallel layout
// and batch arithmetic, the input files, and the plugins. Each reports what is wrong to the
// context and fills what it derives into the ResolvedRun; they run in the order below, each
// relying on what the earlier ones derived.
#pragma once

#include "config/check_context.h"
#include "config/load_purpose.h"
#include "config/resolved_run.h"
#include "config/run_environment.h"

namespace trellis {

// [run] out_dir (default runs/<name>), and the outputs inside it: checkpoint.dir and
// logging.metrics when left empty, and relative checkpoint.dir, logging.metrics, logging.trace
// and model.export = "llmc:PATH" resolved against it. Runs first: later checks see real paths.
void resolve_output_paths(CheckContext& ctx);

// model.init: "random", "llmc:PATH" (reads the checkpoint's header; its dimensions fill the
// model keys the user left out and must agree with those given), "checkpoint:DIR".
void check_model_init(CheckContext& ctx, ResolvedRun& run);
// model.export: "" or "llmc:PATH" (not a directory; its folder is made when training ends).
void check_model_export(CheckContext& ctx, ResolvedRun& run);

// [model] experts and the MoE keys (top_k within experts, the keys unset on a dense model, no
// context parallelism or CUDA with experts); fills run.moe, which the plugins' checks see.
void check_moe(CheckContext& ctx, ResolvedRun& run);
// experts > 0 needs a layer family that runs them (PluginDescriptor::runs_experts). After
// check_plugins.
void check_moe_family(CheckContext& ctx, const ResolvedRun& run);

// [model] arch and the keys it presets: fills the keys the config leaves out from the preset
// (their origins noting how), checks them (kv_heads dividing heads, LayerNorm's fixed epsilon,
// rotary positions' even head size, the preset's MLP width) and refuses what core runs for
// GPT-2 only (llm.c import and export, a Hugging Face GPT-2's import; a Hugging Face export of
// blocks neither GPT-2's nor LLaMA's; samples) and MoE experts with
// SwiGLU; fills run.arch. False when the architecture is not known, so that no plugin's check
// sees it. After check_layout (model dimensions from a checkpoint filled in).
bool check_model_architecture(CheckContext& ctx, ResolvedRun& run);
// The backend of the expert groups has the operation the dispatcher sends tokens with
// (all_to_all_v, ABI 2.3, for "alltoall"). After check_plugins.
void check_expert_backend(CheckContext& ctx, const ResolvedRun& run);
// An architecture other than GPT-2's needs a layer family that builds it
// (PluginDescriptor::builds_architectures, ABI 2.6). After check_plugins.
void check_architecture_family(CheckContext& ctx, const ResolvedRun& run);

struct LayoutStatus {
  bool world_known = false;  // run.world_size holds it
  // The layout, the microbatches and the model dimensions are all known: a RunQuery can be made
  // for the plugins' checks.
  bool query_ready = false;
};

// [parallel] expert: only with experts, dividing both the experts and the data size (the expert
// group lives inside the data dimension); fills run.moe.expert_parallel. After check_layout,
// before check_plugins (whose checks see it).
void check_expert_parallel(CheckContext& ctx, const LayoutStatus& layout, ResolvedRun& run);

// World size, data size, rank order, model chunks, microbatches, padded vocabulary; hidden %
// heads; optimizer bounds that involve two keys.
LayoutStatus check_layout(CheckContext& ctx, const RunEnvironment& env, ResolvedRun& run);

// [data] train and val; fills run.train / run.val.
void check_input_files(CheckContext& ctx, ResolvedRun& run);
// [data] tokenizer: "bytes" or "gpt2:DIR", whose vocab.json and merges.txt it reads (every
// problem in them reported), and [model] vocab_size at least the tokenizer's vocabulary; fills
// run.tokenizer.
void check_tokenizer(CheckContext& ctx, ResolvedRun& run);

// Finds the plugins the run uses, checks every [comm.<backend>] table against its backend's
// options, and runs each used plugin's check when the layout allows.
// With LoadPurpose::plan the backend is not checked or loaded, only its name (it need not be
// built where the run is planned).
void check_plugins(CheckContext& ctx, const RunEnvironment& env, LayoutStatus layout,
                   LoadPurpose purpose, ResolvedRun& run);

// [train] recompute and its method and group size against the model's chunks and the layer
// family (selective needs a family that recomputes attention); fills run.recompute. After
// check_plugins.
void check_recompute(CheckContext& ctx, ResolvedRun& run);

// Enums in typed form, the timeout as a duration.
void fill_derived_settings(CheckContext& ctx, ResolvedRun& run);

// [checkpoint] resume = true: finds the newest complete checkpoint in checkpoint.dir (none: the
// run starts from [model] init) and checks that its manifest is of this run's model. Runs after
// fill_derived_settings (it needs the directory) and the layout (it needs the dimensions).
void check_checkpoint_resume(CheckContext& ctx, ResolvedRun& run);

}  // namespace trellis
