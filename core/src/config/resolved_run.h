// A run ready to start: the configuration with every value in effect, where each came from, and
// everything derived from it — world size, parallel layout, microbatches, padded vocabulary,
// input files, the plugins it uses. load_run() (config_loader.h) returns one only when the
// configuration has no problems, so code that receives a ResolvedRun need not check it again.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/comm_groups.h"
#include "config/config_origin.h"
#include "config/run_config.h"
#include "model/hf_model.h"
#include "model/llmc_checkpoint_header.h"
#include "model/recompute_plan.h"
#include "tokenizer/byte_tokenizer.h"
#include "trellis/config.h"
#include "trellis/parallel.h"
#include "trellis/pipeline_plan.h"
#include "trellis/plugin_registry.h"
#include "trellis/simulator.h"

namespace trellis {

struct ModelInit {
  enum class Kind : unsigned char { random, llmc, checkpoint, hf };
  Kind kind = Kind::random;
  // llmc: the checkpoint file; checkpoint: the step directory; hf: the Hugging Face directory
  std::filesystem::path path;
};

struct DataFile {
  enum class Format : unsigned char { llmc_tokens, text };
  std::filesystem::path path;
  Format format = Format::text;
  // llmc_tokens: from the header; text: bytes (the tokens of the byte-level tokenizer; another
  // tokenizer's count is known once the file is encoded, when training starts)
  std::int64_t tokens = 0;
};

enum class LrSchedule : unsigned char { constant, cosine };

// A plugin the run names, and whether it uses it.
struct PluginUse {
  PluginKind kind = PluginKind::layers;
  std::string name;
  std::string key;                 // the config key naming it, e.g. "parallel.tensor_mode"
  bool used = true;                // false: named but idle, e.g. a schedule when pipeline = 1
  std::string unused_reason;       // when not used
  std::optional<PluginInfo> info;  // when used: the plugin found
};

struct ResolvedRun {
  std::string config_file;  // as the user named it
  // Every key's value in effect. Sentinels are filled in: run.out_dir, checkpoint.dir,
  // logging.metrics, parallel.data, and with init = "llmc:PATH" the model dimensions the file
  // left out.
  RunConfig config;
  // Where each key's value came from; every key of the schema has an entry.
  std::map<std::string, Origin> origins;
  // Every [comm.<backend>] table, checked against its backend's options.
  // Every plugin option table ([comm.<backend>], [schedule.<name>], [layers.<name>]) by its key
  // ("comm.ucx"), checked against its plugin's options.
  std::map<std::string, Options> plugin_options;

  int world_size = 1;
  Origin world_origin;  // launch.nproc's origin, or the launcher's environment variable
  ParallelLayout layout{ParallelSizes{}};
  int virtual_stages = 1;
  int microbatches = 1;  // per optimizer step, per data rank
  ModelDims dims;        // padded_vocab included
  MoeSettings moe;       // [model] experts and its keys; experts 0: dense
  ModelInit init;        // with "checkpoint:DIR", path is the step directory DIR resolves to
  std::optional<LlmcCheckpointHeader> llmc;          // with init = "llmc:PATH"
  std::optional<HfModel> hf;                         // with init = "hf:DIR": its config.json
  std::optional<ModelDims> checkpoint_dims;          // with init = "checkpoint:DIR": its model
  std::optional<MoeSettings> checkpoint_moe;         // and its experts (0: dense)
  std::optional<ModelArchitecture> checkpoint_arch;  // and its architecture
  // [model] arch and the keys it presets, resolved (config/model_architecture.h); a
  // default-made one (ffn_hidden 0) until the config check fills it.
  ModelArchitecture arch;
  // With [checkpoint] resume = true and a complete checkpoint in [checkpoint] dir: the newest
  // step directory, which the run continues from (its model checked against this run's).
  std::optional<std::filesystem::path> resume_from;
  std::int64_t resume_step = 0;  // with resume_from: the steps its checkpoint holds
  std::optional<std::filesystem::path> export_llmc;  // with export = "llmc:PATH"
  std::optional<std::filesystem::path> export_hf;    // with export = "hf:DIR"
  DataFile train;
  std::optional<DataFile> val;
  // [data] tokenizer, read and checked: what text files are encoded with. Never null; the
  // byte-level tokenizer unless the config names another (and when loaded for LoadPurpose::plan,
  // which reads no data).
  std::shared_ptr<const Tokenizer> tokenizer = std::make_shared<const ByteTokenizer>();
  LrSchedule lr_schedule = LrSchedule::cosine;
  DeviceKind device = DeviceKind::cpu;
  RecomputeSettings recompute;  // [train] recompute, recompute_method, recompute_num_layers
  std::chrono::milliseconds comm_timeout{std::chrono::minutes(5)};

  std::vector<PluginUse> plugins;  // layers, schedule, context, comm, in that order
  // With pipeline > 1: the schedule made concrete for this run, and its simulation with
  // kDryRunCosts (the config check rejects a schedule that deadlocks).
  std::optional<PipelinePlan> pipeline_plan;
  std::optional<SimulationResult> pipeline_simulation;
  std::shared_ptr<const PluginRegistry> registry;

  // The options of the chosen backend ([comm.<config.comm.backend>]); empty when it has none.
  const Options& backend_options() const;
  // The options of backend `name` ([comm.<name>]), e.g. of one [comm.groups] names.
  const Options& backend_options(const std::string& name) const;
  // The backend of `dimension`'s groups (config/comm_groups.h), and every backend the run's
  // groups use, [comm] backend first.
  std::string group_backend(CommDimension dimension) const;
  std::vector<std::string> comm_backends() const;
  // The options of the chosen schedule ([schedule.<name>]) and layer family ([layers.<name>]).
  const Options& schedule_options() const;
  const Options& layers_options() const;
  // The options of the chosen context plugin ([context.<config.parallel.context_mode>]).
  const Options& context_options() const;
  // The options of the chosen dispatcher ([dispatcher.<config.parallel.expert_dispatcher>]).
  const Options& dispatcher_options() const;
  // Model chunks: pipeline x virtual stages, each of layers_per_chunk() consecutive blocks.
  int layers_per_chunk() const { return static_cast<int>(dims.layers) / model_chunks(); }
  int layers_per_stage() const { return layers_per_chunk() * virtual_stages; }
  int model_chunks() const { return layout.sizes().pipeline * virtual_stages; }
  // The run as a plugin's check sees it.
  RunQuery query(const Options* options) const;
};

}  // namespace trellis
